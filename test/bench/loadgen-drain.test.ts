/**
 * The end of a run against a server that never catches up: --max-drain-ms
 * ends the drain even while updates keep arriving (a collapsed server may
 * trickle for minutes), and --feed-port sends the feed to another server
 * than the subscribers' (tickwire on NATS: feed on one node, subscribers on
 * the other). Stand-in peers: one swallows the feed, one trickles updates of
 * a symbol outside the run every 20 ms.
 */
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canBuild, runLoadgen, standInPeer } from './loadgen.js';

const ok = canBuild();
const packr = new Packr({ useRecords: false });

describe.skipIf(!ok)('loadgen drain bound and feed port', () => {
  let subsPeer: Awaited<ReturnType<typeof standInPeer>>;
  let feedPeer: Awaited<ReturnType<typeof standInPeer>>;
  let feedFrames = 0;
  const timers = new Set<NodeJS.Timeout>();
  beforeAll(async () => {
    subsPeer = await standInPeer((ws) => {
      ws.send('ready');
      const t = setInterval(() => ws.send(packr.pack({ s: 'ELSEWHERE', k: 1, t: 1 })), 20);
      timers.add(t);
      ws.on('close', () => clearInterval(t));
    });
    feedPeer = await standInPeer((ws) => {
      ws.on('message', () => feedFrames++);
    });
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await subsPeer.close();
    await feedPeer.close();
  });

  it('stops draining after --max-drain-ms while updates still arrive, and feeds --feed-port', async () => {
    const r = await runLoadgen(
      [
        'run',
        '--port',
        subsPeer.port,
        '--feed-port',
        feedPeer.port,
        '--peer',
        'ws-msgpack',
        '--subs',
        1,
        '--symbols',
        2,
        '--rate',
        20,
        '--duration',
        0.5,
        '--drain-ms',
        1000, // never reached: something arrives every 20 ms
        '--max-drain-ms',
        300,
      ],
      { timeoutMs: 20_000 },
    );
    expect(r).toMatchObject({ status: 'incomplete', sent_ticks: 10, expected: 10, delivered: 0 });
    expect(r.unknown_symbol).toBeGreaterThan(0);
    expect(feedFrames).toBe(10);
  });
});
