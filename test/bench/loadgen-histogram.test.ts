/**
 * The native loader's latency histogram (bench/loadgen/src/hist.c), through
 * `loadgen selftest hist`: exact below 128 µs, at most 1/128 above the true
 * value beyond, never above the maximum; percentile p is the
 * ceil(p/100 × count)-th smallest value, as HdrHistogram defines it.
 */
import { describe, expect, it } from 'vitest';
import { canBuild, selftest } from './loadgen.js';

const ok = canBuild();
const PS = ['0', '1', '10', '25', '50', '75', '90', '99', '99.9', '99.99', '100'];

function exact(sorted: number[], p: number): number {
  if (p === 0) return sorted[0]!;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)));
  return sorted[rank - 1]!;
}

/** A fixed pseudo-random sequence (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

async function check(values: number[]): Promise<Record<string, unknown>> {
  const { summary } = await selftest(['hist'], values.join('\n'));
  const clamped = values.map((v) => Math.max(0, v)).sort((a, b) => a - b);
  const got = summary.percentiles as Record<string, number>;
  for (const key of PS) {
    const want = exact(clamped, Number(key));
    const v = got[key]!;
    expect(v, `p${key}`).toBeGreaterThanOrEqual(want);
    expect(v, `p${key}`).toBeLessThanOrEqual(clamped[clamped.length - 1]!);
    if (want < 128) expect(v, `p${key} exact below 128`).toBe(want);
    else expect(v, `p${key}`).toBeLessThanOrEqual(want + want / 128);
  }
  expect(summary.count).toBe(values.length);
  expect(summary.min).toBe(clamped[0]);
  expect(summary.max).toBe(clamped[clamped.length - 1]);
  expect(summary.mean as number).toBeCloseTo(
    clamped.reduce((a, b) => a + b, 0) / clamped.length,
    2,
  );
  return summary;
}

describe.skipIf(!ok)('loadgen histogram', () => {
  it('is exact for 1..1000 below 128 and close above', async () => {
    await check(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('holds its bound over six decades of log-distributed values', async () => {
    const r = rng(12345);
    const values = Array.from({ length: 20_000 }, () => Math.floor(Math.exp(r() * Math.log(5e7))));
    values.push(0, 1, 127, 128, 129, 255, 256, 65_535, 65_536, 2 ** 33);
    await check(values);
  });

  it('ranks a long tail the way HdrHistogram does (p99.9 of 1000 is the 999th value)', async () => {
    const values = Array.from({ length: 1000 }, (_, i) =>
      i < 998 ? 10 : i === 998 ? 5000 : 90_000,
    );
    const s = await check(values);
    const p = s.percentiles as Record<string, number>;
    expect(p['99.9']).toBeGreaterThanOrEqual(5000);
    expect(p['99.9']).toBeLessThanOrEqual(5000 + 5000 / 128);
    expect(p['99.99']).toBe(90_000);
    expect(p['99']).toBe(10);
  });

  it('records negative values as 0 and counts them', async () => {
    const s = await check([-5, -1, 3, 4]);
    expect(s.negative).toBe(2);
    expect((s.percentiles as Record<string, number>)['50']).toBe(0);
  });

  it('answers 0 for an empty histogram', async () => {
    const { summary } = await selftest(['hist'], '');
    expect(summary).toMatchObject({ count: 0, max: 0, percentiles: { '50': 0, '100': 0 } });
  });
});
