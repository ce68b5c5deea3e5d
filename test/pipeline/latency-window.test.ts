import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY, LatencyWindow, rank } from '../../src/pipeline/latency-window.js';

const round = (x: number): number => Math.round(x * 10) / 10;

/**
 * Independent nearest-rank reference: the k-th smallest value, k the least
 * integer with k/n >= num/den (exact integer arithmetic, no float q).
 */
function nearestRank(sorted: readonly number[], num: number, den: number): number {
  const n = sorted.length;
  let k = 1;
  while (k * den < num * n) k++;
  return sorted[k - 1]!;
}

function reference(samples: readonly number[], size: number) {
  const kept = samples.slice(-size);
  const sorted = [...kept].sort((a, b) => a - b);
  const sum = kept.reduce((a, b) => a + b, 0);
  return {
    p50: round(nearestRank(sorted, 1, 2)),
    p95: round(nearestRank(sorted, 19, 20)),
    p99: round(nearestRank(sorted, 99, 100)),
    p999: round(nearestRank(sorted, 999, 1000)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sum / kept.length),
    samples: kept.length,
  };
}

describe('LatencyWindow', () => {
  it('summarises an empty window as all zeros', () => {
    const w = new LatencyWindow(16);
    expect(w.summary()).toEqual({
      p50: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
      mean: 0,
      samples: 0,
    });
    expect(w.summary()).toBe(EMPTY_SUMMARY);
    expect(Object.isFrozen(EMPTY_SUMMARY)).toBe(true);
  });

  it('defaults to a window of 65,536 samples', () => {
    const w = new LatencyWindow();
    expect(w.getSize()).toBe(65_536);
  });

  it('summarises a single sample', () => {
    const w = new LatencyWindow(8);
    w.record(42);
    expect(w.summary()).toEqual({
      p50: 42,
      p95: 42,
      p99: 42,
      p999: 42,
      max: 42,
      mean: 42,
      samples: 1,
    });
  });

  it('computes nearest-rank percentiles of 1..100', () => {
    const w = new LatencyWindow(1000);
    // Recorded out of order on purpose.
    for (let i = 100; i >= 1; i--) w.record(i);
    const s = w.summary();
    expect(s.p50).toBe(50);
    expect(s.p95).toBe(95);
    expect(s.p99).toBe(99);
    expect(s.p999).toBe(100);
    expect(s.max).toBe(100);
    expect(s.mean).toBe(50.5);
    expect(s.samples).toBe(100);
  });

  it('keeps only the last `size` samples', () => {
    const w = new LatencyWindow(4);
    for (const v of [1000, 2000, 3000, 1, 2, 3, 4]) w.record(v);
    const s = w.summary();
    expect(s.samples).toBe(4);
    expect(s.max).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(w.getBufferLength()).toBe(4);
  });

  it('sorts numerically, not as strings', () => {
    const w = new LatencyWindow(8);
    for (const v of [9, 10, 100, 2]) w.record(v);
    expect(w.summary().max).toBe(100);
    expect(w.summary().p50).toBe(9);
  });

  it('matches a nearest-rank computation on a sorted copy (integers, any count)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 300 }),
        (size, samples) => {
          const w = new LatencyWindow(size);
          for (const s of samples) w.record(s);
          expect(w.summary()).toEqual(reference(samples, size));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches a nearest-rank computation on a sorted copy (fractional µs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }), {
          minLength: 1,
          maxLength: 2500,
        }),
        (size, samples) => {
          const w = new LatencyWindow(size);
          for (const s of samples) w.record(s);
          const got = w.summary();
          const want = reference(samples, size);
          expect(got.p50).toBe(want.p50);
          expect(got.p95).toBe(want.p95);
          expect(got.p99).toBe(want.p99);
          expect(got.p999).toBe(want.p999);
          expect(got.max).toBe(want.max);
          expect(got.samples).toBe(want.samples);
          // Summation order may differ from the reference: allow one rounding step.
          expect(Math.abs(got.mean - want.mean)).toBeLessThanOrEqual(0.1 + 1e-9);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('agrees with record() via the base class add()', () => {
    const a = new LatencyWindow(5);
    const b = new LatencyWindow(5);
    const values = [5, 3, 8, 1, 9, 2, 7, 4];
    for (const v of values) a.record(v);
    b.add(...values);
    expect(a.summary()).toEqual(b.summary());
    expect(a.toArray()).toEqual(b.toArray());
  });
});

describe('rank', () => {
  it('returns the ceil(q·n)-th smallest value', () => {
    const sorted = Float64Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(rank(sorted, 0.5)).toBe(50);
    expect(rank(sorted, 0.51)).toBe(60);
    expect(rank(sorted, 0.95)).toBe(100);
    expect(rank(sorted, 0.1)).toBe(10);
    expect(rank(sorted, 1)).toBe(100);
  });

  it('clamps q = 0 to the smallest value', () => {
    expect(rank(Float64Array.from([3, 4, 5]), 0)).toBe(3);
  });

  it('matches the integer nearest-rank reference for every n up to 2000', () => {
    for (let n = 1; n <= 2000; n++) {
      const sorted = Float64Array.from({ length: n }, (_, i) => i);
      const plain = Array.from(sorted);
      expect(rank(sorted, 0.999)).toBe(nearestRank(plain, 999, 1000));
      expect(rank(sorted, 0.99)).toBe(nearestRank(plain, 99, 100));
      expect(rank(sorted, 0.95)).toBe(nearestRank(plain, 19, 20));
      expect(rank(sorted, 0.5)).toBe(nearestRank(plain, 1, 2));
    }
  });
});
