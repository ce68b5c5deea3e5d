/**
 * LogSequencer against a real JetStream: a node that does not know another
 * node's appends loses the expected-last-subject-sequence race, reads the
 * last stored batch, renumbers after it and stores; the stream holds one
 * gap-free sequence. Acks (store tickets) follow storage. A batch stored
 * whose acknowledgement was lost is recognised by its message id even after
 * the de-duplication window and another node's append; the queue of ticks
 * waiting to be stored is bounded by bytes as well as by count.
 */
import { type JetStreamManager, type NatsConnection, type StoredMsg, connect, nanos } from 'nats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { JetStreamAppender } from '../../src/bus/jetstream-appender.js';
import { jetStreamLog } from '../../src/bus/jetstream-log.js';
import { LogSequencer } from '../../src/bus/sequencer.js';
import { STREAM_NAME, ensureStream } from '../../src/bus/stream.js';
import { subjectFor } from '../../src/bus/subjects.js';
import { Pipeline, type Publisher, type StoreTicket } from '../../src/pipeline/pipeline.js';
import { batchFirstN, decodeBatch } from '../../src/pipeline/update-batch.js';
import { pack, sleep, unpack, waitFor } from '../helpers/clients.js';
import { NatsProxy, NatsServer, natsAvailable } from '../helpers/nats.js';

const quiet: Publisher = { publish: () => undefined, subscribers: () => 0 };

describe.skipIf(!natsAvailable)('LogSequencer on JetStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await ensureStream(jsm, { history: 100, replicas: 1 });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  function node(
    id: string,
    conn: NatsConnection = nc,
  ): { pipeline: Pipeline; sequencer: LogSequencer } {
    const appender = new JetStreamAppender(conn, 1000);
    const sequencer = new LogSequencer(
      jetStreamLog(
        () => appender,
        () => jsm,
      ),
      { nodeId: id },
    );
    const pipeline = new Pipeline(quiet);
    pipeline.sequencer = sequencer;
    return { pipeline, sequencer };
  }

  function ticket(): StoreTicket & { count: number; lost: number } {
    return {
      count: 0,
      lost: 0,
      stored(n: number) {
        this.count += n;
      },
      failed(n: number) {
        this.lost += n;
      },
    };
  }

  test('the node that lost the race renumbers after the stored batch', async () => {
    const a = node('a');
    const b = node('b');
    const ta = ticket();
    a.pipeline.process(pack([1, 2, 3].map((p) => ({ s: 'SQ.X', p }))), performance.now(), ta);
    await a.sequencer.whenIdle(5000);
    expect(ta.count).toBe(3);
    // b has not observed a's batch: its first append expects an empty subject.
    const tb = ticket();
    b.pipeline.process(pack([4, 5].map((p) => ({ s: 'SQ.X', p }))), performance.now(), tb);
    expect(await b.sequencer.whenIdle(5000)).toBe(true);
    expect(tb.count).toBe(2);
    expect(b.sequencer.conflicts).toBe(1);

    const last = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor('SQ.X') });
    expect(batchFirstN(last.data)).toBe(4);
    const updates = decodeBatch(last.data).map((u) => unpack(u) as { n: number; p: number });
    expect(updates.map((u) => [u.n, u.p])).toEqual([
      [4, 4],
      [5, 5],
    ]);
  });

  test('observed batches keep a node from conflicting', async () => {
    const c = node('c');
    const entry = c.pipeline.symbols.internName('SQ.X')!;
    const last = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor('SQ.X') });
    c.sequencer.observe(entry, last.seq, last.data);
    c.pipeline.process(pack({ s: 'SQ.X', p: 6 }), performance.now());
    await c.sequencer.whenIdle(5000);
    expect(c.sequencer.conflicts).toBe(0);
    const now = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor('SQ.X') });
    expect(batchFirstN(now.data)).toBe(6);
  });

  test('appends are de-duplicated by message id on retry', async () => {
    const appender = new JetStreamAppender(nc, 2000);
    const log = jetStreamLog(
      () => appender,
      () => jsm,
    );
    const before = await jsm.streams.getMessage(STREAM_NAME, {
      last_by_subj: subjectFor('SQ.X'),
    });
    const payload = before.data;
    const first = await log.append(subjectFor('SQ.D'), payload, 0, 'dedup-1');
    // The same id again (a retry after a lost acknowledgement): same sequence, nothing new.
    const again = await log.append(subjectFor('SQ.D'), payload, 0, 'dedup-1');
    expect(again.seq).toBe(first.seq);
    const info = await jsm.streams.info(STREAM_NAME);
    expect(info.state.last_seq).toBe(first.seq);
  });

  test('a batch stored whose ack was lost is found by its id, past the de-dup window', async () => {
    const proxy = await NatsProxy.start(nats.port);
    const ncA = await connect({
      servers: proxy.url,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    });
    try {
      const a = node('la', ncA);
      const b = node('lb');
      const subject = subjectFor('SQ.L');
      await jsm.streams.update(STREAM_NAME, { duplicate_window: nanos(100) });
      proxy.dropReplies(); // a's append is stored; its PubAck never arrives
      const ta = ticket();
      a.pipeline.process(pack({ s: 'SQ.L', p: 1 }), performance.now(), ta);
      let stored: StoredMsg | undefined;
      await waitFor(async () => {
        stored = await jsm.streams
          .getMessage(STREAM_NAME, { last_by_subj: subject })
          .catch(() => undefined);
        return stored !== undefined;
      }, 'a batch stored');
      // b knows it and appends after it.
      const entryB = b.pipeline.symbols.internName('SQ.L')!;
      b.sequencer.observe(entryB, stored!.seq, stored!.data);
      b.pipeline.process(pack({ s: 'SQ.L', p: 2 }), performance.now());
      expect(await b.sequencer.whenIdle(5000)).toBe(true);
      await sleep(300); // past the de-duplication window
      proxy.cut(); // a reconnects and retries: a conflict, with b's batch last

      expect(await a.sequencer.whenIdle(10_000)).toBe(true);
      expect(ta.count).toBe(1);
      const info = await jsm.streams.info(STREAM_NAME, { subjects_filter: subject });
      expect(info.state.subjects?.[subject]).toBe(2);
      const last = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subject });
      expect(decodeBatch(last.data).map((u) => (unpack(u) as { p: number }).p)).toEqual([2]);
    } finally {
      await jsm.streams.update(STREAM_NAME, { duplicate_window: nanos(120_000) });
      await ncA.close();
      await proxy.close();
    }
  });

  test('the queue of ticks waiting to be stored is bounded by bytes too', () => {
    // No connection: appends wait and are retried, so ticks pile up.
    const sequencer = new LogSequencer(
      jetStreamLog(
        () => undefined,
        () => undefined,
      ),
      { nodeId: 'pb', maxPendingBytes: 64 * 1024 },
    );
    const pipeline = new Pipeline(quiet);
    pipeline.sequencer = sequencer;
    const wide = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`k${i}`, 'w'.repeat(200)]),
    );
    let frames = 0;
    while (!sequencer.saturated && frames < 1000) {
      pipeline.process(pack({ s: 'PB.A', p: frames, ...wide }), performance.now());
      frames++;
    }
    sequencer.close();
    expect(sequencer.saturated).toBe(true);
    expect(sequencer.pending).toBeLessThan(100);
    expect(sequencer.pendingBytes).toBeGreaterThanOrEqual(64 * 1024);
  });
});
