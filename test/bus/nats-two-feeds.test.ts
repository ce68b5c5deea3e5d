/**
 * Two feeds for the same symbol on two nodes, publishing at the same time:
 * JetStream's expected-last-subject-sequence guard still gives one
 * gap-free sequence, every tick exactly once, identical on both nodes.
 * Node B reaches NATS through a relay, so the test can also hold B's append
 * until A has stored a batch B has not seen: a conflict every run, resolved
 * by renumbering.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { NatsProxy, NatsServer, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: concurrent feeds for one symbol', () => {
  let nats: NatsServer;
  let proxy: NatsProxy;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    nats = await NatsServer.start();
    proxy = await NatsProxy.start(nats.port);
    a = await startServer({ nats: nats.url });
    b = await startServer({ nats: proxy.url });
    await waitFor(() => a.server.ready && b.server.ready, 'nodes ready', 10_000);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await proxy?.close();
    await nats?.stop();
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
    // B stalls; A stores a batch B cannot know of; B's append leaves with
    // the subject's old last sequence and loses the race once B is back.
    const conflictsBefore = b.server.bus?.sequencer.conflicts ?? 0;
    proxy.pause();
    feedA.sendPack({ s: 'TF.X', p: 1, id: `A${frames * perFrame}` });
    expect(await feedA.nextOp('ack', 15_000)).toMatchObject({ accepted: 1 });
    feedB.sendPack({ s: 'TF.X', p: 2, id: `B${frames * perFrame}` });
    await waitFor(() => b.server.bus?.sequencer.pending === 1, 'B holding one tick', 5000);
    proxy.resume();
    expect(await feedB.nextOp('ack', 15_000)).toMatchObject({ accepted: 1 });
    expect(b.server.bus?.sequencer.conflicts ?? 0).toBeGreaterThan(conflictsBefore);

    const total = 2 * frames * perFrame + 2;
    const gotA = await subA.updates(total, 15_000);
    const gotB = await subB.updates(total, 15_000);
    expect(gotA.map((u) => u.n)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(gotB).toEqual(gotA);
    const ids = gotA.map((u) => u.id as string);
    expect(new Set(ids).size).toBe(total);
    // Each feed's own ticks keep their order.
    for (const prefix of ['A', 'B']) {
      const own = ids.filter((id) => id.startsWith(prefix)).map((id) => Number(id.slice(1)));
      expect(own).toEqual(Array.from({ length: frames * perFrame + 1 }, (_, i) => i));
    }
    const conflicts =
      (a.server.bus?.sequencer.conflicts ?? 0) + (b.server.bus?.sequencer.conflicts ?? 0);
    expect(conflicts).toBeGreaterThan(0);
  });
});
