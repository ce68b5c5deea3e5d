/**
 * The native loader's feed frames (bench/loadgen/src/feed.c), through
 * `loadgen selftest feed`: masked client frames of 1, 10 and 100 ticks, each
 * tick with the right symbol (round robin over S0..S{M-1}, zero-padded), the
 * frame's intended send time `t` as a MessagePack uint64, and the feed's
 * per-symbol sequence `k`; the JSON form for JSON peers carries the same.
 */
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { canBuild, execLoadgen, unframe } from './loadgen.js';

const ok = canBuild();
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
const T0 = 1_765_000_000_000_000;
const STEP = 250;

async function frames(batch: number, symbols: number, format: string, count: number) {
  const r = await execLoadgen(
    [
      'selftest',
      'feed',
      '--batch',
      batch,
      '--symbols',
      symbols,
      '--format',
      format,
      '--frames',
      count,
      '--t0',
      T0,
      '--step-us',
      STEP,
    ],
    { timeoutMs: 10_000 },
  );
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n').map(unframe);
}

function expectTicks(decoded: unknown[], batch: number, symbols: number): void {
  const width = String(symbols - 1).length;
  decoded.forEach((value, j) => {
    const ticks = (batch === 1 ? [value] : value) as Record<string, unknown>[];
    expect(ticks).toHaveLength(batch);
    ticks.forEach((t, i) => {
      const g = j * batch + i;
      expect(t).toEqual({
        s: `S${String(g % symbols).padStart(width, '0')}`,
        p: 100.25,
        q: 1,
        t: T0 + j * STEP,
        k: Math.floor(g / symbols) + 1,
      });
    });
  });
}

describe.skipIf(!ok)('loadgen feed frames', () => {
  for (const batch of [1, 10, 100]) {
    it(`MessagePack, ${batch} tick(s) per frame`, async () => {
      const fs = await frames(batch, 12, 'msgpack', 5);
      expect(fs.every((f) => f.opcode === 2)).toBe(true);
      // t is a uint64 (0xcf) as the contract wants, not msgpackr's float64.
      const first = fs[0]!.payload;
      const at = first.indexOf(Buffer.from([0xa1, 0x74]));
      expect(first[at + 2]).toBe(0xcf);
      expectTicks(
        fs.map((f) => unpackr.unpack(f.payload) as unknown),
        batch,
        12,
      );
    });
  }

  for (const batch of [1, 10]) {
    it(`JSON, ${batch} tick(s) per frame`, async () => {
      const fs = await frames(batch, 1000, 'json', 4);
      expect(fs.every((f) => f.opcode === 1)).toBe(true);
      expectTicks(
        fs.map((f) => JSON.parse(f.payload.toString('utf8')) as unknown),
        batch,
        1000,
      );
    });
  }
});
