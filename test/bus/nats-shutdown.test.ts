/**
 * Graceful stop in NATS mode: feeds stay open while the bus drains, so the
 * acks of ticks that do get stored reach them; frames sent meanwhile are
 * refused (rate_limited, acked as rejected); then feeds are closed with 1001.
 * stop() keeps to its deadline when NATS is gone.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { waitFor, withTimeout } from '../helpers/clients.js';
import { NatsProxy, NatsServer, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: shutdown', () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test('acks of ticks stored while draining reach the feed; new frames are refused; then 1001', async () => {
    const nats = await NatsServer.start();
    cleanup.push(() => nats.stop());
    const proxy = await NatsProxy.start(nats.port);
    cleanup.push(() => proxy.close());
    const node: TestServer = await startServer({ nats: proxy.url });
    cleanup.push(() => node.stop());
    await waitFor(() => node.server.ready, 'node ready', 10_000);
    const sub = await node.stream('symbols=SH.A');
    await sub.nextOp('snapshot');
    const feed = await node.feed('ack=1');
    feed.sendPack({ s: 'SH.A', p: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ frame: 1, accepted: 1 });
    expect(await sub.update(10_000)).toMatchObject({ n: 1 });

    proxy.pause(); // appends wait on the wire
    feed.sendPack({ s: 'SH.A', p: 2 });
    feed.sendPack({ s: 'SH.A', p: 3 });
    await waitFor(() => node.server.bus?.sequencer.pending === 2, 'two ticks pending', 5000);
    const stopping = node.server.stop(10_000);
    feed.sendPack({ s: 'SH.A', p: 4 });
    expect(await feed.nextOp('error', 5000)).toMatchObject({ code: 'rate_limited' });
    proxy.resume();

    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ frame: 2, accepted: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ frame: 3, accepted: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ frame: 4, accepted: 0, rejected: 1 });
    expect((await feed.waitClose(10_000)).code).toBe(1001);
    expect((await sub.updates(2, 10_000)).map((u) => `${u.n}:${u.p}`)).toEqual(['2:2', '3:3']);
    expect((await sub.waitClose(10_000)).code).toBe(1001);
    await stopping;
  }, 40_000);

  test('stop() keeps to its deadline when NATS is gone', async () => {
    const nats = await NatsServer.start();
    cleanup.push(() => nats.stop());
    const node: TestServer = await startServer({ nats: nats.url });
    cleanup.push(() => node.stop());
    await waitFor(() => node.server.ready, 'node ready', 10_000);
    const feed = await node.feed('ack=1');
    feed.sendPack({ s: 'SH.B', p: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 1 });
    await nats.kill();
    await waitFor(() => !node.server.ready, 'node not ready', 10_000);
    // Generous margin over the 500 ms asked for: this is about not waiting
    // on NATS's own request time-outs (5 s), not about speed.
    const started = performance.now();
    await withTimeout(node.server.stop(500), 3000, 'stop(500)');
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
