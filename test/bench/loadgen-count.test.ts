/**
 * Unsampled subscribers count updates from each frame's array header without
 * walking them, at every array width: a batch of 16 or more ticks has a
 * MessagePack array16 header, not a fixarray. The ticks here name a symbol
 * outside the run, so a walk would count them as unknown, not delivered.
 */
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canBuild, listenOnce, standInPeer } from './loadgen.js';

const ok = canBuild();
const packr = new Packr({ useRecords: false });
const T = Date.now() * 1000;
/** More than 65,535 elements: MessagePack array32. Its elements need not be ticks to be counted. */
const BIG = new Array<number>(70_000).fill(0);
const batch = (n: number) =>
  Array.from({ length: n }, (_, k) => ({ s: 'ELSEWHERE', k: k + 1, t: T }));

describe.skipIf(!ok)('loadgen counting from array headers', () => {
  let peer: Awaited<ReturnType<typeof standInPeer>>;
  beforeAll(async () => {
    peer = await standInPeer((ws) => {
      ws.send('ready');
      for (const n of [15, 16, 100, 1000]) ws.send(packr.pack(batch(n)));
      ws.send(packr.pack(BIG)); // array32: counted, never walked

      ws.close(1000);
    });
  });
  afterAll(() => peer.close());

  it('packs these batches as a fixarray, then array16', () => {
    expect([15, 16, 100, 1000].map((n) => packr.pack(batch(n))[0])).toEqual([
      0x9f, 0xdc, 0xdc, 0xdc,
    ]);
  });

  it('counts fixarray, array16 and array32 batches of an unsampled subscriber without walking them', async () => {
    const r = await listenOnce(peer.port, ['--sample', 0]);
    expect(r).toMatchObject({
      delivered: 15 + 16 + 100 + 1000 + 70_000,
      unknown_symbol: 0,
      parse_errors: 0,
      sampled: 0,
    });
  });

  it('walks the same frames for a sampled subscriber', async () => {
    const r = await listenOnce(peer.port, ['--sample', 1]);
    expect(r).toMatchObject({
      delivered: 0,
      unknown_symbol: 15 + 16 + 100 + 1000,
      parse_errors: 0,
      sampled: 1,
    });
  });
});
