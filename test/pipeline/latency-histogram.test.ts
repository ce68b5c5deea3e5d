/**
 * Bucket math of the latency histogram: a sample goes to the first bucket
 * whose bound it does not exceed (bounds are inclusive, as Prometheus's
 * `le`), past the last bound to +Inf; counts come out cumulative, the sum
 * in µs; a frame's ticks recorded at once count as many samples. The
 * latency window feeds it from both record paths.
 */
import { describe, expect, test } from 'vitest';
import { LATENCY_BUCKETS_US, LatencyHistogram } from '../../src/pipeline/latency-histogram.js';
import { LatencyWindow } from '../../src/pipeline/latency-window.js';

describe('LatencyHistogram', () => {
  test('default bounds: 10 µs to 1 s, increasing', () => {
    expect(LATENCY_BUCKETS_US[0]).toBe(10);
    expect(LATENCY_BUCKETS_US[LATENCY_BUCKETS_US.length - 1]).toBe(1_000_000);
    for (let i = 1; i < LATENCY_BUCKETS_US.length; i++)
      expect(LATENCY_BUCKETS_US[i]).toBeGreaterThan(LATENCY_BUCKETS_US[i - 1]!);
  });

  test('inclusive upper bounds, +Inf past the last, cumulative counts, the sum', () => {
    const h = new LatencyHistogram([10, 100, 1000]);
    for (const us of [0, 10, 10.5, 100, 999, 1000, 1000.1, 5e6]) h.record(us);
    const s = h.snapshot();
    expect(s.boundsUs).toEqual([10, 100, 1000]);
    // ≤10: 0, 10 · ≤100: +10.5, 100 · ≤1000: +999, 1000 · +Inf: +1000.1, 5e6
    expect(s.cumulative).toEqual([2, 4, 6, 8]);
    expect(s.sumUs).toBeCloseTo(0 + 10 + 10.5 + 100 + 999 + 1000 + 1000.1 + 5e6, 6);
  });

  test('recordMany counts n samples of one value', () => {
    const h = new LatencyHistogram([10, 100]);
    h.recordMany(50, 7);
    h.recordMany(5, 0);
    h.record(500);
    const s = h.snapshot();
    expect(s.cumulative).toEqual([0, 7, 8]);
    expect(s.sumUs).toBe(50 * 7 + 500);
  });

  test('empty: zeros', () => {
    const s = new LatencyHistogram().snapshot();
    expect(s.cumulative).toHaveLength(LATENCY_BUCKETS_US.length + 1);
    expect(s.cumulative.every((c) => c === 0)).toBe(true);
    expect(s.sumUs).toBe(0);
  });

  test('a negative or NaN sample (another clock, with --nats) counts as 0: the sum never goes down', () => {
    const h = new LatencyHistogram();
    h.recordMany(40, 2);
    h.recordMany(-500, 3);
    h.record(Number.NaN);
    const s = h.snapshot();
    expect(s.sumUs).toBe(80);
    expect(s.cumulative[0]).toBe(4); // the ≤ 10 µs bucket
    expect(s.cumulative.at(-1)).toBe(6);
  });

  test('bounds that do not increase are refused', () => {
    expect(() => new LatencyHistogram([10, 10])).toThrow(RangeError);
  });
});

describe('LatencyWindow feeds its histogram', () => {
  test('record and recordMany both count; the window keeps the same samples', () => {
    const w = new LatencyWindow(4);
    w.record(20);
    w.recordMany(30, 3);
    const s = w.histogram.snapshot();
    expect(s.cumulative[s.cumulative.length - 1]).toBe(4);
    expect(s.sumUs).toBe(20 + 90);
    expect(w.summary()).toMatchObject({ samples: 4, max: 30, p50: 30 });
  });

  test('recordFrame: n samples of the time since entry, in µs', () => {
    const w = new LatencyWindow(8);
    const entryMs = performance.now() - 2; // 2 ms ago
    w.recordFrame(entryMs, 3);
    const s = w.histogram.snapshot();
    expect(s.cumulative[s.cumulative.length - 1]).toBe(3);
    // Past the 1 ms bound: the bucket ≤ 1 ms holds none of them.
    expect(s.cumulative[LATENCY_BUCKETS_US.indexOf(1_000)]).toBe(0);
    expect(w.summary().samples).toBe(3);
    expect(w.summary().p50).toBeGreaterThanOrEqual(2000);
  });

  test('recordMany past the window size: the window holds only that value, the histogram counts all', () => {
    const w = new LatencyWindow(4);
    w.record(1);
    w.recordMany(7, 10);
    expect(w.summary()).toMatchObject({ samples: 4, max: 7, p50: 7 });
    const s = w.histogram.snapshot();
    expect(s.cumulative[s.cumulative.length - 1]).toBe(11);
  });
});
