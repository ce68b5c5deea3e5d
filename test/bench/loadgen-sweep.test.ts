/**
 * --sweep-us: the unsampled subscribers are read in timed sweeps, the sampled
 * ones at once. Every update still counts, and latency is recorded on the
 * sampled subscribers only (an unsampled one may have waited for a sweep).
 */
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket } from 'ws';
import { canBuild, runLoadgen, standInPeer } from './loadgen.js';

const ok = canBuild();
const packr = new Packr({ useRecords: false });
const T = Date.now() * 1000;
const N = 20;

describe.skipIf(!ok)('loadgen sweep mode', () => {
  let peer: Awaited<ReturnType<typeof standInPeer>>;
  beforeAll(async () => {
    // Waits for all ten subscribers of a run, then sends and closes, so that
    // none closes while the others are still connecting.
    let waiting: WebSocket[] = [];
    peer = await standInPeer((ws) => {
      ws.send('ready');
      waiting.push(ws);
      if (waiting.length < 10) return;
      for (const w of waiting) {
        // Single-tick frames are maps: every subscriber walks them.
        for (let k = 1; k <= N; k++) w.send(packr.pack({ s: 'S0', k, t: T }));
        w.close(1000);
      }
      waiting = [];
    });
  });
  afterAll(() => peer.close());

  const listen = (extra: (string | number)[]) =>
    runLoadgen(
      [
        'run',
        '--port',
        peer.port,
        '--peer',
        'ws-msgpack',
        '--subs',
        10,
        '--symbols',
        1,
        '--duration',
        5,
        ...extra,
      ],
      { timeoutMs: 15_000 },
    );

  it('counts every update on every subscriber and records latency on the sampled one only', async () => {
    const r = await listen(['--sample', 10, '--sweep-us', 20_000]);
    expect(r).toMatchObject({
      delivered: 10 * N,
      sampled: 1,
      order_errors: 0,
      closed: 10,
      parse_errors: 0,
    });
    expect((r.latency_us as { count: number }).count).toBe(N);
  });

  it('records latency on every subscriber when all are sampled', async () => {
    const r = await listen(['--sample', 1]);
    expect(r).toMatchObject({ delivered: 10 * N, sampled: 10, closed: 10 });
    expect((r.latency_us as { count: number }).count).toBe(10 * N);
  });
});
