/**
 * Batches and NATS's max_payload (here a server with max_payload 8192): a
 * symbol's queued ticks are split into batches that fit; a tick that could
 * never fit is refused when the frame is validated (bad_tick), never queued;
 * a batch JetStream refuses for good fails (its ticks acked as rejected)
 * instead of being retried forever and blocking the symbol.
 */
import { type JetStreamManager, type NatsConnection, connect as natsConnect } from 'nats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STREAM_NAME } from '../../src/bus/stream.js';
import { subjectFor } from '../../src/bus/subjects.js';
import { type TestClient, waitFor } from '../helpers/clients.js';
import { NatsServer, busStats, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';

const MAX_PAYLOAD = 8192;

describe.skipIf(!natsAvailable)('NATS bus: batches within max_payload', () => {
  let nats: NatsServer;
  let a: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let feed: TestClient;

  beforeAll(async () => {
    nats = await NatsServer.start(undefined, { maxPayload: MAX_PAYLOAD });
    a = await startServer({ nats: nats.url });
    await waitFor(() => a.server.ready, 'node ready', 10_000);
    nc = await natsConnect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    feed = await a.feed('ack=1');
  });

  afterAll(async () => {
    await nc?.close();
    await a?.stop();
    await nats?.stop();
  });

  test('a frame larger than max_payload for one symbol is stored in batches that fit', async () => {
    const sub = await a.stream('symbols=PL.A');
    await sub.nextOp('snapshot');
    const ticks = Array.from({ length: 200 }, (_, i) => ({
      s: 'PL.A',
      p: i + 1,
      note: 'x'.repeat(200),
    }));
    feed.sendPack(ticks); // about 43 KB for one symbol
    expect(await feed.nextOp('ack', 15_000)).toMatchObject({ accepted: 200, rejected: 0 });
    const got = await sub.updates(200, 15_000);
    expect(got.map((u) => u.n)).toEqual(ticks.map((t) => t.p));
    expect(got.map((u) => u.p)).toEqual(ticks.map((t) => t.p));
    // Several messages, each within max_payload.
    const info = await jsm.streams.info(STREAM_NAME, { subjects_filter: subjectFor('PL.A') });
    const stored = info.state.subjects?.[subjectFor('PL.A')] ?? 0;
    expect(stored).toBeGreaterThan(5);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(STREAM_NAME, { seq });
      expect(m.data.length).toBeLessThanOrEqual(MAX_PAYLOAD);
    }
  });

  test('a tick that can never fit is refused with bad_tick; the rest of its frame is stored', async () => {
    const sub = await a.stream('symbols=PL.B');
    await sub.nextOp('snapshot');
    const rejectedBefore = (await a.stats()).ticks.rejected;
    const wide = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`k${i}`, 'y'.repeat(250)]),
    );
    feed.sendPack([
      { s: 'PL.B', p: 0 },
      { s: 'PL.B', p: 1, ...wide },
      { s: 'PL.B', p: 2 },
    ]);
    const err = await feed.nextOp('error', 10_000);
    expect(err).toMatchObject({ code: 'bad_tick', indices: [1] });
    expect(err.message).toMatch(/max_payload/);
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 2, rejected: 1 });
    const got = await sub.updates(2, 10_000);
    expect(got.map((u) => `${u.n}:${u.p}`)).toEqual(['1:0', '2:2']);
    expect((await a.stats()).ticks.rejected).toBe(rejectedBefore + 1);
  });

  test('a batch JetStream refuses for good fails once; the symbol keeps going', async () => {
    const sub = await a.stream('symbols=PL.C');
    await sub.nextOp('snapshot');
    // The operator caps the stream's messages below what fits max_payload.
    await jsm.streams.update(STREAM_NAME, { max_msg_size: 1024 });
    const wide = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`k${i}`, 'z'.repeat(200)]),
    );
    feed.sendPack({ s: 'PL.C', p: 1, ...wide }); // about 2 KB: under max_payload, over max_msg_size
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 0, rejected: 1 });
    expect((await busStats(a)).failed).toBe(1);

    await jsm.streams.update(STREAM_NAME, { max_msg_size: -1 });
    feed.sendPack({ s: 'PL.C', p: 2 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 1, rejected: 0 });
    expect(await sub.update(10_000)).toMatchObject({ s: 'PL.C', n: 1, p: 2 });
  });
});
