/**
 * LogSequencer against a real JetStream: a node that does not know another
 * node's appends loses the expected-last-subject-sequence race, reads the
 * last stored batch, renumbers after it and stores; the stream holds one
 * gap-free sequence. Acks (store tickets) follow storage.
 */
import { type JetStreamManager, type NatsConnection, connect } from 'nats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STREAM_NAME, ensureStream, jetStreamLog } from '../../src/bus/nats-bus.js';
import { JetStreamAppender } from '../../src/bus/jetstream-appender.js';
import { LogSequencer } from '../../src/bus/sequencer.js';
import { subjectFor } from '../../src/bus/subjects.js';
import { Pipeline, type Publisher, type StoreTicket } from '../../src/pipeline/pipeline.js';
import { batchFirstN, decodeBatch } from '../../src/pipeline/update-batch.js';
import { pack, unpack } from '../helpers/clients.js';
import { NatsServer, natsAvailable } from '../helpers/nats.js';

const quiet: Publisher = { publish: () => undefined, subscribers: () => 0 };

describe.skipIf(!natsAvailable)('LogSequencer on JetStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await ensureStream(jsm, 100, 1);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  function node(id: string): { pipeline: Pipeline; sequencer: LogSequencer } {
    const appender = new JetStreamAppender(nc, 2000);
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

  function ticket(): StoreTicket & { count: number } {
    return {
      count: 0,
      stored(n: number) {
        this.count += n;
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
});
