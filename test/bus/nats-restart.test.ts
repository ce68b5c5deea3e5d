/**
 * NATS killed and restarted: both nodes report not ready (/readyz 503), then
 * reconnect by themselves and become ready again; ticks acknowledged before
 * the outage are kept, ticks sent during it are stored and acknowledged
 * once NATS is back, and subscribers see one gap-free sequence.
 *
 * NATS restarted without its store: not ready while there is no stream,
 * then the stream is made again and numbering continues after the last `n`
 * the nodes handed out. A batch stored whose PubAck was lost (the connection
 * dropped with it) is acknowledged once and stored once, also when the retry
 * comes after JetStream's de-duplication window. After a reconnect a node is
 * ready only once it has read what was stored before.
 */
import { type JetStreamManager, type NatsConnection, connect as natsConnect, nanos } from 'nats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STREAM_NAME } from '../../src/bus/stream.js';
import { subjectFor } from '../../src/bus/subjects.js';
import { type TestClient, sleep, waitFor } from '../helpers/clients.js';
import {
  type Cluster,
  NatsProxy,
  NatsServer,
  busStats,
  natsAvailable,
  startCluster,
} from '../helpers/nats.js';
import { type TestServer, readyz, startServer } from '../helpers/server.js';

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

describe.skipIf(!natsAvailable)('NATS bus: NATS restarted without its store', () => {
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

  test('not ready while the stream is missing; numbering continues after the last n', async () => {
    const subA = await a.stream('symbols=SL.A');
    const subB = await b.stream('symbols=SL.A');
    for (const s of [subA, subB]) await s.nextOp('snapshot');
    const feed = await a.feed('ack=1');
    feed.sendPack([1, 2, 3].map((p) => ({ s: 'SL.A', p })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 3 });
    for (const s of [subA, subB])
      expect((await s.updates(3, 10_000)).map((u) => u.n)).toEqual([1, 2, 3]);

    // NATS comes back without its disk and, for now, without JetStream:
    // connected, but there is no stream to number ticks or read from.
    await nats.kill();
    await nats.restart({ wipeStore: true, jetstream: false });
    await waitFor(
      async () => (await busStats(a)).connected && (await busStats(b)).connected,
      'both nodes reconnected',
      15_000,
    );
    await sleep(500);
    expect(await readyz(a)).toBe(503);
    expect(await readyz(b)).toBe(503);

    // JetStream back with an empty store: the nodes make the stream again.
    await nats.kill();
    await nats.restart({ jetstream: true });
    await waitFor(
      async () => (await readyz(a)) === 200 && (await readyz(b)) === 200,
      'both nodes ready again',
      20_000,
    );
    feed.sendPack([4, 5].map((p) => ({ s: 'SL.A', p })));
    expect(await feed.nextOp('ack', 15_000)).toMatchObject({ accepted: 2 });
    // Not 1 and 2 again: subscribers would take them for repeats.
    for (const s of [subA, subB]) {
      expect((await s.updates(2, 15_000)).map((u) => `${u.n}:${u.p}`)).toEqual(['4:4', '5:5']);
    }
    for (const node of [a, b]) expect((await busStats(node)).stream_resets).toBe(1);
    const late = await b.stream('symbols=SL.A');
    expect((await late.nextOp('snapshot')).ticks[0]).toMatchObject({ n: 5, p: 5 });
  }, 60_000);
});

describe.skipIf(!natsAvailable)('NATS bus: a lost PubAck, a node behind on reconnect', () => {
  let nats: NatsServer;
  let proxy: NatsProxy;
  let a: TestServer;
  let b: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await NatsServer.start();
    proxy = await NatsProxy.start(nats.port);
    a = await startServer({ nats: proxy.url }); // node A reaches NATS through the relay
    b = await startServer({ nats: nats.url });
    await waitFor(() => a.server.ready && b.server.ready, 'nodes ready', 10_000);
    nc = await natsConnect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });

  afterAll(async () => {
    await nc?.close();
    await a?.stop();
    await b?.stop();
    await proxy?.close();
    await nats?.stop();
  });

  test('a batch stored whose ack was lost is acked once and stored once, past the de-dup window', async () => {
    const sub = await b.stream('symbols=LA.A');
    await sub.nextOp('snapshot');
    const feedA = await a.feed('ack=1');
    const feedB = await b.feed('ack=1');
    feedA.sendPack({ s: 'LA.A', p: 1, id: 'a1' });
    expect(await feedA.nextOp('ack', 10_000)).toMatchObject({ frame: 1, accepted: 1 });
    expect(await sub.update(10_000)).toMatchObject({ n: 1, id: 'a1' });
    // JetStream would answer a retry within its de-duplication window (2
    // minutes) with the original sequence; make this retry come after it.
    await jsm.streams.update(STREAM_NAME, { duplicate_window: nanos(100) });

    proxy.dropReplies(); // A's append reaches NATS; the PubAck never comes back
    feedA.sendPack({ s: 'LA.A', p: 2, id: 'a2' });
    expect(await sub.update(10_000)).toMatchObject({ n: 2, id: 'a2' });
    // Another node appends after it before A hears anything.
    feedB.sendPack({ s: 'LA.A', p: 3, id: 'b1' });
    expect(await feedB.nextOp('ack', 10_000)).toMatchObject({ accepted: 1 });
    expect(await sub.update(10_000)).toMatchObject({ n: 3, id: 'b1' });
    await sleep(300);
    proxy.cut(); // the connection drops; A reconnects and retries

    expect(await feedA.nextOp('ack', 20_000)).toMatchObject({ frame: 2, accepted: 1 });
    await feedA.expectNone(300, (m) => m.data?.op === 'ack');
    await sub.expectNone(300);
    const info = await jsm.streams.info(STREAM_NAME, { subjects_filter: subjectFor('LA.A') });
    expect(info.state.subjects?.[subjectFor('LA.A')]).toBe(3);
    feedA.sendPack({ s: 'LA.A', p: 4, id: 'a3' });
    expect(await feedA.nextOp('ack', 10_000)).toMatchObject({ frame: 3, accepted: 1 });
    expect(await sub.update(10_000)).toMatchObject({ n: 4, id: 'a3' });
  }, 40_000);

  test('after a reconnect, ready only once the consumer has caught up', async () => {
    const feedB = await b.feed('ack=1');
    proxy.pause(); // node A stalls: what B stores now piles up for it
    const frames = 200;
    for (let f = 0; f < frames; f++) {
      feedB.sendPack(
        Array.from({ length: 10 }, (_, i) => ({ s: 'RC.A', p: f * 10 + i, pad: 'x'.repeat(100) })),
      );
    }
    for (let f = 0; f < frames; f++) await feedB.nextOp('ack', 15_000);
    // An ack means stored in the stream, not yet delivered back to B: B's own
    // seq can still be a batch behind here (it was in about 1 round of 12 here).
    // The stream holds all of them, so that is what A must have read.
    const target = frames * 10;
    const bus = a.server.bus!;
    const reconnects = bus.stats().reconnects;
    proxy.cut();
    proxy.resume();
    // Watch every turn of the event loop from the reconnect on: whenever A
    // says ready, it has delivered everything stored before it reconnected.
    const deadline = Date.now() + 20_000;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      expect(Date.now()).toBeLessThan(deadline);
      if (bus.stats().reconnects === reconnects) continue;
      if (a.server.ready) break;
    }
    expect(a.server.pipeline.symbols.get('RC.A')?.seq).toBe(target);
  }, 40_000);
});
