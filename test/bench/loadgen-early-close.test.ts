/**
 * A subscriber that the peer finishes with (its updates, then a close) before
 * the loader has connected the others is counted in `closed`, not reported as
 * a connect failure; one that closes before it is ready still is.
 */
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canBuild, runLoadgen, standInPeer } from './loadgen.js';

const ok = canBuild();
const packr = new Packr({ useRecords: false });
const T = Date.now() * 1000;
const N = 5;

const run = (port: number) =>
  runLoadgen(
    // One connection at a time: the first is closed before the second opens.
    ['run', '--port', port, '--peer', 'ws-msgpack', '--subs', 4, '--symbols', 1].concat([
      '--duration',
      5,
      '--connect-parallel',
      1,
    ]),
    { timeoutMs: 15_000 },
  );

describe.skipIf(!ok)('loadgen: a subscriber closed during the connect phase', () => {
  const peers: Awaited<ReturnType<typeof standInPeer>>[] = [];
  let readyThenClose: number;
  let closeAtOnce: number;
  beforeAll(async () => {
    const a = await standInPeer((ws) => {
      ws.send('ready');
      for (let k = 1; k <= N; k++) ws.send(packr.pack({ s: 'S0', k, t: T }));
      ws.close(1000);
    });
    const b = await standInPeer((ws) => ws.close(1000));
    peers.push(a, b);
    readyThenClose = a.port;
    closeAtOnce = b.port;
  });
  afterAll(async () => {
    for (const p of peers) await p.close();
  });

  it('after it was ready: counted as closed, its updates delivered', async () => {
    const r = await run(readyThenClose);
    expect(r.error ?? null).toBeNull();
    expect(r).toMatchObject({
      delivered: 4 * N,
      closed: 4,
      parse_errors: 0,
      status: expect.not.stringMatching(/^error$/) as unknown,
    });
  });

  it('before it was ready: a connect failure', async () => {
    const r = await run(closeAtOnce);
    expect(String(r.error)).toMatch(/closed while connecting/);
  });
});
