/**
 * Two feeds for the same symbol on two nodes, publishing at the same time:
 * JetStream's expected-last-subject-sequence guard still gives one
 * gap-free sequence, every tick exactly once, identical on both nodes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cluster, natsAvailable, startCluster } from '../helpers/nats.js';
import { type TestServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: concurrent feeds for one symbol', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes as [TestServer, TestServer];
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('one gap-free sequence, each tick once, the same on both nodes', async () => {
    const subA = await a.stream('symbols=TF.X');
    const subB = await b.stream('symbols=TF.X');
    await subA.nextOp('snapshot');
    await subB.nextOp('snapshot');
    const feedA = await a.feed('ack=1');
    const feedB = await b.feed('ack=1');
    const frames = 40;
    const perFrame = 10;
    // Interleave frames from both feeds without waiting for acks.
    for (let f = 0; f < frames; f++) {
      feedA.sendPack(
        Array.from({ length: perFrame }, (_, i) => ({
          s: 'TF.X',
          p: 1,
          id: `A${f * perFrame + i}`,
        })),
      );
      feedB.sendPack(
        Array.from({ length: perFrame }, (_, i) => ({
          s: 'TF.X',
          p: 2,
          id: `B${f * perFrame + i}`,
        })),
      );
    }
    for (let f = 0; f < frames; f++) {
      expect(await feedA.nextOp('ack', 15_000)).toMatchObject({ frame: f + 1, accepted: perFrame });
      expect(await feedB.nextOp('ack', 15_000)).toMatchObject({ frame: f + 1, accepted: perFrame });
    }
    const total = 2 * frames * perFrame;
    const gotA = await subA.updates(total, 15_000);
    const gotB = await subB.updates(total, 15_000);
    expect(gotA.map((u) => u.n)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(gotB).toEqual(gotA);
    const ids = gotA.map((u) => u.id as string);
    expect(new Set(ids).size).toBe(total);
    // Each feed's own ticks keep their order.
    for (const prefix of ['A', 'B']) {
      const own = ids.filter((id) => id.startsWith(prefix)).map((id) => Number(id.slice(1)));
      expect(own).toEqual(Array.from({ length: frames * perFrame }, (_, i) => i));
    }
    const conflicts =
      (a.server.bus?.sequencer.conflicts ?? 0) + (b.server.bus?.sequencer.conflicts ?? 0);
    console.log(`two feeds, one symbol: ${total} ticks, ${conflicts} append conflicts resolved`);
  });
});
