/**
 * NATS killed and restarted: both nodes report not ready (/readyz 503), then
 * reconnect by themselves and become ready again; ticks acknowledged before
 * the outage are kept, ticks sent during it are stored and acknowledged
 * once NATS is back, and subscribers see one gap-free sequence.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, waitFor } from '../helpers/clients.js';
import { type Cluster, type NatsServer, natsAvailable, startCluster } from '../helpers/nats.js';
import { type TestServer, httpGet } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: NATS restart', () => {
  let cluster: Cluster;
  let nats: NatsServer;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startCluster(2);
    nats = cluster.nats;
    [a, b] = cluster.nodes as [TestServer, TestServer];
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const readyz = async (node: TestServer): Promise<number> =>
    (await httpGet(node.httpUrl('/readyz'))).status;

  test('not ready while NATS is down, recovers, loses nothing acknowledged', async () => {
    const subB = await b.stream('symbols=NK.A');
    await subB.nextOp('snapshot');
    const feed: TestClient = await a.feed('ack=1');
    feed.sendPack(Array.from({ length: 10 }, (_, i) => ({ s: 'NK.A', p: i + 1 })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 10 });
    expect((await subB.updates(10, 10_000)).map((u) => u.n)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );

    await nats.kill();
    await waitFor(
      async () => (await readyz(a)) === 503 && (await readyz(b)) === 503,
      'both nodes not ready',
      10_000,
    );
    // Sent during the outage: accepted by node A, stored once NATS is back.
    feed.sendPack(Array.from({ length: 5 }, (_, i) => ({ s: 'NK.A', p: 11 + i })));
    await feed.expectNone(300, (m) => m.data?.op === 'ack');

    await nats.restart();
    await waitFor(
      async () => (await readyz(a)) === 200 && (await readyz(b)) === 200,
      'both nodes ready again',
      15_000,
    );
    expect(await feed.nextOp('ack', 15_000)).toMatchObject({ frame: 2, accepted: 5 });
    const after = await subB.updates(5, 15_000);
    expect(after.map((u) => `${u.n}:${u.p}`)).toEqual([
      '11:11',
      '12:12',
      '13:13',
      '14:14',
      '15:15',
    ]);

    // Acknowledged data survived the restart: a fresh subscriber's snapshot.
    const late = await b.stream('symbols=NK.A');
    expect((await late.nextOp('snapshot')).ticks[0]).toMatchObject({ n: 15, p: 15 });
    const stats = await a.stats();
    expect(stats.bus).toMatchObject({ kind: 'nats', connected: true });
  });
});
