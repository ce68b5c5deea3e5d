import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM helper of the benchmark, no type declarations
import { forEachTick } from '../../bench/e2e/lean.mjs';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });

type Seen = { s: unknown; k: unknown; ts: unknown; sa: unknown };
function lean(buf: Uint8Array): Seen[] {
  const out: Seen[] = [];
  forEachTick(buf, (s: unknown, k: unknown, ts: unknown, sa: unknown) =>
    out.push({ s, k, ts, sa }),
  );
  return out;
}
function full(buf: Uint8Array): Seen[] {
  const v = unpackr.unpack(buf) as Record<string, unknown> | Record<string, unknown>[];
  return (Array.isArray(v) ? v : [v]).map((t) => ({ s: t.s, k: t.k, ts: t.ts, sa: t.sa }));
}

describe('bench/e2e/lean.mjs', () => {
  const tick = (i: number): Record<string, unknown> => ({
    s: `S${i}`,
    p: 100 + i / 100,
    q: i,
    ts: 12_345_678_901 + i,
    sa: 12_345_678_901.5 + i,
    k: 70_000 + i,
  });

  it('reads s, k, ts, sa like msgpackr, for one map and arrays (fix, 16-bit)', () => {
    for (const v of [tick(1), [tick(1)], Array.from({ length: 20 }, (_, i) => tick(i))]) {
      const buf = packr.pack(v);
      expect(lean(buf)).toEqual(full(buf));
    }
  });

  it('skips extra keys of every kind (tickwire n/r uint64, strings, nested, nil, bools)', () => {
    const t = {
      ...tick(3),
      n: 4_000_000_000,
      r: 2n ** 40n + 7n,
      x: 'long string '.repeat(30),
      y: { a: [1, 2, { b: null }], c: true },
      z: false,
      neg: -5,
      big: -(2 ** 40),
      f: 1.5,
    };
    const buf = packr.pack([t, t]);
    expect(lean(buf)).toEqual([
      { s: 'S3', k: 70_003, ts: 12_345_678_904, sa: 12_345_678_904.5 },
      { s: 'S3', k: 70_003, ts: 12_345_678_904, sa: 12_345_678_904.5 },
    ]);
  });

  it('does not report control maps (op) as ticks, and rejects truncated input', () => {
    expect(lean(packr.pack({ op: 'subscribed', symbols: ['*'] }))).toEqual([]);
    const buf = packr.pack([tick(1), tick(2)]);
    expect(() => lean(buf.subarray(0, buf.length - 3))).toThrow();
  });
});
