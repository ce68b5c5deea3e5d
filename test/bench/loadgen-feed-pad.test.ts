/**
 * `--pad BYTES` on the native loader's feed (bench/loadgen/src/feed.c): each
 * MessagePack tick gains a key "x" holding a string, exactly BYTES longer
 * than without it, the other fields unchanged; JSON feeds and widths outside
 * 3..34 are refused. Used to give a relay (raw uWS) updates as long as
 * tickwire's, which appends `n` and `r`.
 */
import { describe, expect, it } from 'vitest';
import { Unpackr } from 'msgpackr';
import { canBuild, execLoadgen, unframe } from './loadgen.js';

const ok = canBuild();
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });

async function feed(batch: number, pad: number, format = 'msgpack') {
  return execLoadgen(
    [
      'selftest',
      'feed',
      '--batch',
      batch,
      '--symbols',
      10,
      '--format',
      format,
      '--frames',
      2,
      '--pad',
      pad,
    ],
    { timeoutMs: 10_000 },
  );
}

const payloads = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => unframe(l).payload);

describe.skipIf(!ok)('loadgen feed --pad', () => {
  for (const batch of [1, 100]) {
    it(`adds exactly 16 bytes per tick, ${batch} tick(s) per frame`, async () => {
      const plain = await feed(batch, 0);
      const padded = await feed(batch, 16);
      expect(plain.code).toBe(0);
      expect(padded.code).toBe(0);
      const [a, b] = [payloads(plain.stdout), payloads(padded.stdout)];
      expect(b[0]!.length - a[0]!.length).toBe(16 * batch);
      const ticks = (p: Buffer) => {
        const v = unpackr.unpack(p) as Record<string, unknown> | Record<string, unknown>[];
        return Array.isArray(v) ? v : [v];
      };
      const [ta, tb] = [ticks(a[1]!), ticks(b[1]!)];
      expect(tb).toHaveLength(batch);
      tb.forEach((t, i) => {
        expect(t.x).toBe('.'.repeat(13));
        const { x: _x, ...rest } = t;
        expect(rest).toEqual(ta[i]);
      });
    });
  }

  it('refuses a pad outside 3..34 and JSON feeds', async () => {
    expect((await feed(1, 2)).code).not.toBe(0);
    expect((await feed(1, 35)).code).not.toBe(0);
    expect((await feed(1, 16, 'json')).code).not.toBe(0);
    expect((await feed(1, 34)).code).toBe(0);
  });
});
