/**
 * The native loader's per-symbol order check, against a stand-in peer that
 * sends crafted updates: a forward jump counts as a gap, a repeat or a step
 * back as backwards, and both make the run incomplete; updates of unknown
 * symbols, without a sequence or without a time are counted apart; a
 * subscriber's close is counted with its code and ends a run with no feed. With
 * --sample 0 nothing is walked: updates are counted from the array headers.
 */
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canBuild, listenOnce, standInPeer } from './loadgen.js';

const ok = canBuild();
const packr = new Packr({ useRecords: false });
const T = Date.now() * 1000;

describe.skipIf(!ok)('loadgen order check', () => {
  let peer: Awaited<ReturnType<typeof standInPeer>>;
  beforeAll(async () => {
    // Like bench/peers/ws-msgpack.mjs: `ready`, then MessagePack updates with the feed's `k`.
    peer = await standInPeer((ws) => {
      ws.send('ready');
      ws.send(packr.pack({ s: 'S0', k: 1, t: T }));
      ws.send(
        packr.pack([
          { s: 'S0', k: 2, t: T },
          { s: 'S1', k: 1, t: T },
          { s: 'S0', k: 4, t: T },
        ]),
      );
      ws.send(packr.pack({ s: 'S0', k: 3, t: T })); // backwards
      ws.send(packr.pack({ s: 'S1', k: 1, t: T })); // repeat
      ws.send(packr.pack({ s: 'S1', k: 2 })); // no time
      ws.send(packr.pack({ s: 'S1', t: T })); // no sequence
      ws.send(packr.pack({ s: 'OTHER', k: 1, t: T })); // not one of the run's symbols
      ws.close(1000); // ends the run: the loader stops when every subscriber has closed
    });
  });
  afterAll(() => peer.close());

  const listen = (extra: (string | number)[]) => listenOnce(peer.port, extra);

  it('counts gaps and steps back per symbol and marks the run incomplete', async () => {
    const r = await listen([]);
    expect(r).toMatchObject({
      status: 'incomplete',
      closed: 1,
      first_close_code: 1000,
      delivered: 8,
      gaps: 1,
      backwards: 2,
      order_errors: 3,
      unknown_symbol: 1,
      no_seq: 1,
      no_time: 1,
      parse_errors: 0,
    });
    expect((r.latency_us as { count: number }).count).toBe(7);
  });

  it('with --sample 0 counts updates from array headers, checking nothing', async () => {
    const r = await listen(['--sample', 0]);
    // Single maps are walked (they may be control messages), arrays counted.
    expect(r).toMatchObject({ delivered: 8, order_errors: 0, sampled: 0, closed: 1 });
  });
});
