/**
 * NATS mode: the epoch (numbering identity) is derived from the JetStream
 * stream, so every node reading it names the same numbering and a node
 * restarted on it keeps it, while a stream that was replaced (NATS lost its
 * store) names another one: a `since` of the old stream is not replayed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { streamEpoch } from '../../src/bus/stream.js';
import { waitFor } from '../helpers/clients.js';
import { NatsServer, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';

test('streamEpoch depends on the stream name and creation time only', () => {
  const a = streamEpoch({ created: '2026-12-07T10:00:00Z', config: { name: 'TICKWIRE' } } as never);
  const again = streamEpoch({
    created: '2026-12-07T10:00:00Z',
    config: { name: 'TICKWIRE' },
  } as never);
  const later = streamEpoch({
    created: '2026-12-07T10:00:01Z',
    config: { name: 'TICKWIRE' },
  } as never);
  expect(a).toMatch(/^js-[0-9a-f]{16}$/);
  expect(again).toBe(a);
  expect(later).not.toBe(a);
});

describe.skipIf(!natsAvailable)('NATS bus: epoch from the stream', () => {
  let nats: NatsServer;
  const nodes: TestServer[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await nats?.stop();
  });

  async function node(): Promise<TestServer> {
    const n = await startServer({ nats: nats.url, history: 50 });
    nodes.push(n);
    await waitFor(() => n.server.ready, 'node ready', 10_000);
    return n;
  }

  test('same epoch on two nodes and on a node restarted; another after the stream is replaced', async () => {
    const a = await node();
    const b = await node();
    const epoch = a.server.pipeline.epoch;
    expect(epoch).toMatch(/^js-/);
    expect(b.server.pipeline.epoch).toBe(epoch);

    const feed = await a.feed('ack=1');
    feed.sendPack([1, 2, 3].map((p) => ({ s: 'NE.A', p })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 3 });
    await feed.close();
    await waitFor(() => b.server.pipeline.symbols.get('NE.A')?.seq === 3, 'B read', 10_000);

    // A node started later on the same stream: same epoch, and since works there.
    const c = await node();
    expect(c.server.pipeline.epoch).toBe(epoch);
    const sub = await c.stream();
    sub.sendPack({ op: 'subscribe', symbols: ['NE.A'], since: { 'NE.A': 1 }, epoch });
    expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: true, epoch });

    // NATS loses its store: a new stream, a new epoch; the old since is not replayed.
    await nats.kill();
    await nats.restart({ wipeStore: true });
    await waitFor(
      () => a.server.pipeline.epoch !== epoch && a.server.ready,
      'A on the new stream',
      20_000,
    );
    const fresh = await a.stream();
    fresh.sendPack({ op: 'subscribe', symbols: ['NE.A'], since: { 'NE.A': 1 }, epoch });
    expect(await fresh.nextOp('subscribed')).toMatchObject({
      recovered: false,
      epoch: a.server.pipeline.epoch,
    });
  });
});
