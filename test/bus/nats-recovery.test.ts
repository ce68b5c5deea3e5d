/**
 * Recovery across nodes: a subscriber that leaves node A and resubscribes on
 * node B with `since` gets exactly the updates it missed (recovered: true);
 * a node started later fills its history and snapshots from JetStream.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, type Update, updatesOf, waitFor } from '../helpers/clients.js';
import { type Cluster, type NatsServer, natsAvailable, startCluster } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: recovery with since', () => {
  let cluster: Cluster;
  let nats: NatsServer;
  let a: TestServer;
  let b: TestServer;
  let feed: TestClient;

  beforeAll(async () => {
    cluster = await startCluster(2, { history: 50 });
    nats = cluster.nats;
    [a, b] = cluster.nodes as [TestServer, TestServer];
    feed = await a.feed('ack=1');
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  async function publish(s: string, from: number, count: number): Promise<void> {
    feed.sendPack(Array.from({ length: count }, (_, i) => ({ s, p: from + i })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: count });
  }

  test('moving from A to B with since replays exactly the missed updates', async () => {
    const onA = await a.stream('symbols=NR.A,NR.B');
    await onA.nextOp('snapshot');
    await publish('NR.A', 1, 5);
    await publish('NR.B', 1, 3);
    const seen = await onA.updates(8, 10_000);
    const last: Record<string, number> = {};
    for (const u of seen) last[u.s] = u.n;
    await onA.close();

    await publish('NR.A', 6, 4); // missed: NR.A 6..9
    await publish('NR.B', 4, 2); // missed: NR.B 4..5
    // B has seen them through the stream once its own subscriber would have.
    await waitFor(
      () => b.server.pipeline.symbols.get('NR.A')?.seq === 9,
      'node B caught up',
      10_000,
    );

    const onB = await b.stream();
    onB.sendPack({
      op: 'subscribe',
      symbols: ['NR.A', 'NR.B'],
      since: last,
      epoch: a.server.pipeline.epoch,
    });
    expect(await onB.nextOp('subscribed')).toMatchObject({ recovered: true });
    const replay = updatesOf(await onB.nextData())!;
    expect(replay.map((u: Update) => `${u.s}#${u.n}#${u.p}`)).toEqual([
      'NR.A#6#6',
      'NR.A#7#7',
      'NR.A#8#8',
      'NR.A#9#9',
      'NR.B#4#4',
      'NR.B#5#5',
    ]);
    await publish('NR.A', 10, 1);
    expect(await onB.update(10_000)).toMatchObject({ s: 'NR.A', n: 10, p: 10 });
  });

  test('a node started later reads history and snapshots from JetStream', async () => {
    const c = await startServer({ nats: nats.url, history: 50 });
    try {
      await waitFor(() => c.server.ready, 'node C ready', 10_000);
      const snapC = await c.stream('symbols=NR.A,NR.B');
      const snapA = await a.stream('symbols=NR.A,NR.B');
      expect(await snapC.nextOp('snapshot')).toEqual(await snapA.nextOp('snapshot'));
      const sub = await c.stream();
      sub.sendPack({
        op: 'subscribe',
        symbols: ['NR.A'],
        since: { 'NR.A': 7 },
        epoch: a.server.pipeline.epoch,
      });
      expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: true });
      const replay = updatesOf(await sub.nextData())!;
      expect(replay.map((u) => u.n)).toEqual([8, 9, 10]);
    } finally {
      await c.stop();
    }
  });
});
