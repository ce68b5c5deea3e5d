/**
 * Two tickwire nodes on one NATS: a feed on node A, subscribers on A and B
 * receive byte-identical updates (same n, same r) in the same order.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestClient } from '../helpers/clients.js';
import { type Cluster, natsAvailable, startCluster } from '../helpers/nats.js';
import { type TestServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: fan-out across nodes', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startCluster(2, { history: 100 });
    [a, b] = cluster.nodes as [TestServer, TestServer];
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('subscribers on both nodes get identical updates, numbered once', async () => {
    const subA = await a.stream('symbols=NF.A,NF.B');
    const subB = await b.stream('symbols=NF.A,NF.B');
    const allB = await b.stream('symbols=*');
    for (const s of [subA, subB, allB]) await s.nextOp('snapshot');
    const feed: TestClient = await a.feed('ack=1');
    const ticks = Array.from({ length: 200 }, (_, i) => ({
      s: i % 3 === 0 ? 'NF.B' : 'NF.A',
      p: i,
    }));
    for (let i = 0; i < ticks.length; i += 50) {
      feed.sendPack(ticks.slice(i, i + 50));
      expect(await feed.nextOp('ack')).toMatchObject({ accepted: 50, rejected: 0 });
    }
    const gotA = await subA.updates(200, 10_000);
    const gotB = await subB.updates(200, 10_000);
    const gotAll = await allB.updates(200, 10_000);
    expect(gotB).toEqual(gotA);
    expect(gotAll).toEqual(gotA);
    const perSymbol = new Map<string, number[]>();
    for (const u of gotA) perSymbol.set(u.s, [...(perSymbol.get(u.s) ?? []), u.n]);
    expect(perSymbol.get('NF.A')).toEqual(Array.from({ length: 133 }, (_, i) => i + 1));
    expect(perSymbol.get('NF.B')).toEqual(Array.from({ length: 67 }, (_, i) => i + 1));
    // Per-symbol order is the feed's order (across symbols, batches interleave).
    for (const sym of ['NF.A', 'NF.B']) {
      expect(gotA.filter((u) => u.s === sym).map((u) => u.p)).toEqual(
        ticks.filter((t) => t.s === sym).map((t) => t.p),
      );
    }
  });

  test('snapshots work on every node', async () => {
    const sa = await a.stream('symbols=NF.A');
    const sb = await b.stream('symbols=NF.A');
    const snapA = await sa.nextOp('snapshot');
    const snapB = await sb.nextOp('snapshot');
    expect(snapB).toEqual(snapA);
    expect(snapA.ticks[0]).toMatchObject({ s: 'NF.A', n: 133 });
  });

  test('/readyz is 200 and /stats reports the bus on both nodes', async () => {
    for (const node of [a, b]) {
      const stats = await node.stats();
      expect(stats.bus).toMatchObject({ kind: 'nats', connected: true, caught_up: true });
    }
  });
});
