/**
 * NATS mode: a load test on node A appends nothing to JetStream. Its
 * synthetic ticks reach neither a "*" subscriber on A nor one on B, the
 * stream does not move, and the next real tick of AAPL is n=2 everywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LoadTestStatus } from '../../src/server/load-test.js';
import type { TestClient, Update } from '../helpers/clients.js';
import { type Cluster, busStats, natsAvailable, startCluster } from '../helpers/nats.js';
import type { TestServer } from '../helpers/server.js';

const ADMIN = 'admin-token-nats-lt';

/** Every update a client has received so far, in order. */
function updatesSeen(c: TestClient): Update[] {
  const out: Update[] = [];
  for (const m of c.history) {
    const d: unknown = m.data;
    if (Array.isArray(d)) out.push(...(d as Update[]));
    else if (typeof d === 'object' && d !== null && !('op' in d)) out.push(d as Update);
  }
  return out;
}

describe.skipIf(!natsAvailable)('NATS bus: the load test stays off the bus', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startCluster(2, { adminToken: ADMIN, history: 16 });
    [a, b] = cluster.nodes as [TestServer, TestServer];
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('synthetic ticks are never appended to JetStream', async () => {
    const allA = await a.stream('symbols=*');
    const allB = await b.stream('symbols=*');
    for (const s of [allA, allB]) await s.nextOp('snapshot');
    const feed = await a.feed('ack=1');
    feed.sendPack({ s: 'AAPL', p: 101 });
    expect(await feed.nextOp('ack')).toMatchObject({ accepted: 1 });
    for (const s of [allA, allB]) expect((await s.update()).n).toBe(1);
    const before = [await busStats(a), await busStats(b)].map((s) => [s.stored, s.position]);

    const res = await fetch(a.httpUrl('/admin/loadtest'), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ rate: 2000, symbols: 1, subscribers: 2, duration: 1 }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    let status: Partial<LoadTestStatus> = {};
    await expect
      .poll(
        async () => {
          const r = await fetch(a.httpUrl('/admin/loadtest'), {
            headers: { authorization: `Bearer ${ADMIN}` },
          });
          status = (await r.json()) as Partial<LoadTestStatus>;
          return status.id === id ? status.state : undefined;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe('done');
    expect(status.result!.deliveries).toBeGreaterThan(0);

    expect([await busStats(a), await busStats(b)].map((s) => [s.stored, s.position])).toEqual(
      before,
    );
    feed.sendPack({ s: 'AAPL', p: 102 });
    expect(await feed.nextOp('ack')).toMatchObject({ accepted: 1 });
    for (const s of [allA, allB]) {
      await s.nextData((d: { n?: number }) => d.n === 2);
      expect(updatesSeen(s).map((u) => [u.s, u.n, u.p])).toEqual([
        ['AAPL', 1, 101],
        ['AAPL', 2, 102],
      ]);
    }
  });
});
