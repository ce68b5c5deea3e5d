/**
 * A node that misses updates of a symbol (its consumer fell behind further
 * than the stream keeps) never hands out a jump in `n`: the stream keeps far
 * more than --history per symbol, and when a batch still does not follow a
 * symbol's last update (a gap, or numbering that went back), the node counts
 * it and closes that symbol's subscribers (1011 "resync") before delivering
 * it, so they resubscribe with `since` and get recovered:false and a
 * snapshot.
 */
import { type JetStreamManager, type NatsConnection, connect as natsConnect } from 'nats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { STREAM_NAME } from '../../src/bus/stream.js';
import { subjectFor } from '../../src/bus/subjects.js';
import { JetStreamAppender } from '../../src/bus/jetstream-appender.js';
import { encodeBatch } from '../../src/pipeline/update-batch.js';
import { type TestClient, type Update, waitFor } from '../helpers/clients.js';
import { pendingTick } from '../helpers/pending-tick.js';
import { NatsProxy, NatsServer, busStats, natsAvailable } from '../helpers/nats.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const HISTORY = 5;

/** Stamped with the current time, so the latency window stays sane. */
const tick = (fields: Record<string, unknown>) => pendingTick(fields, Date.now() * 1000);

/** Per symbol, the places where n did not go up by one. */
function jumps(updates: readonly Update[]): string[] {
  const last = new Map<string, number>();
  const out: string[] = [];
  for (const u of updates) {
    const prev = last.get(u.s);
    if (prev !== undefined && u.n !== prev + 1) out.push(`${u.s}: ${prev} -> ${u.n}`);
    last.set(u.s, u.n);
  }
  return out;
}

/** Every update a client received (frames of one or many). */
function received(c: TestClient): Update[] {
  const out: Update[] = [];
  for (const m of c.history) {
    const d: unknown = m.data;
    if (Array.isArray(d)) out.push(...(d as Update[]));
    else if (typeof d === 'object' && d !== null && !('op' in d)) out.push(d as Update);
  }
  return out;
}

describe.skipIf(!natsAvailable)('NATS bus: a node that missed updates', () => {
  let nats: NatsServer;
  let proxy: NatsProxy;
  let a: TestServer;
  let b: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await NatsServer.start();
    proxy = await NatsProxy.start(nats.port);
    a = await startServer({ nats: nats.url, history: HISTORY });
    // Node B reaches NATS through a relay the test can stall.
    b = await startServer({ nats: proxy.url, history: HISTORY });
    await waitFor(() => a.server.ready && b.server.ready, 'nodes ready', 10_000);
    nc = await natsConnect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });

  afterAll(async () => {
    await nc?.close();
    await b?.stop();
    await a?.stop();
    await proxy?.close();
    await nats?.stop();
  });

  test('the stream keeps far more than --history batches per symbol, within a byte bound', async () => {
    const { config } = await jsm.streams.info(STREAM_NAME);
    expect(config.max_msgs_per_subject).toBeGreaterThanOrEqual(100 * HISTORY);
    expect(config.max_bytes).toBeGreaterThan(0);
  });

  test('a batch that skips numbers closes the symbol’s subscribers with 1011 before delivery', async () => {
    const named = await a.stream('symbols=GP.A');
    const all = await a.stream('symbols=*');
    const other = await a.stream('symbols=GP.B');
    for (const s of [named, all, other]) await s.nextOp('snapshot');
    const feed = await a.feed('ack=1');
    feed.sendPack([1, 2, 3].map((p) => ({ s: 'GP.A', p })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 3 });
    await named.updates(3, 10_000);
    await all.updates(3, 10_000);

    // A batch numbered 10-11 lands right after 1-3 (as if 4-9 had been
    // dropped before this node read them): appended with the guard, as a
    // node that believed n was at 9 would.
    const last = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor('GP.A') });
    const appender = new JetStreamAppender(nc, 2000);
    try {
      const batch = encodeBatch([tick({ s: 'GP.A', p: 10 }), tick({ s: 'GP.A', p: 11 })], 10);
      await appender.append(subjectFor('GP.A'), batch, last.seq, 'gap-test-1');
    } finally {
      appender.close();
    }

    for (const s of [named, all]) {
      const close = await s.waitClose(10_000);
      expect(close.code).toBe(1011);
      expect(close.reason).toMatch(/^resync: /);
      expect(jumps(received(s))).toEqual([]);
    }
    expect(other.isOpen).toBe(true);
    const stats = await busStats(a);
    expect(stats).toMatchObject({ gaps: 1, missed: 6 });
    expect((await httpGet(a.httpUrl('/metrics'))).body).toMatch(
      /^tickwire_bus_updates_missed_total 6$/m,
    );

    // What the SDK does next: resubscribe with since; the gap is not in
    // history, so recovered:false and the snapshot (n 11).
    const again = await a.stream();
    again.sendPack({
      op: 'subscribe',
      symbols: ['GP.A'],
      since: { 'GP.A': 3 },
      epoch: a.server.pipeline.epoch,
    });
    expect(await again.nextOp('subscribed')).toMatchObject({ recovered: false });
    expect((await again.nextOp('snapshot')).ticks[0]).toMatchObject({ s: 'GP.A', n: 11, p: 11 });
    feed.sendPack({ s: 'GP.A', p: 12 });
    expect(await again.update(10_000)).toMatchObject({ n: 12, p: 12 });
  });

  test('a batch numbered back (a new stream numbered on by a node that knew less) resyncs too', async () => {
    const named = await a.stream('symbols=RW.A');
    await named.nextOp('snapshot');
    const feed = await a.feed('ack=1');
    feed.sendPack([1, 2, 3].map((p) => ({ s: 'RW.A', p })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 3 });
    expect((await named.updates(3, 10_000)).map((u) => u.n)).toEqual([1, 2, 3]);
    const rewindsBefore = (await busStats(a)).rewinds;

    const last = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subjectFor('RW.A') });
    const appender = new JetStreamAppender(nc, 2000);
    try {
      const batch = encodeBatch([tick({ s: 'RW.A', p: 20 })], 2);
      await appender.append(subjectFor('RW.A'), batch, last.seq, 'rewind-test-1');
    } finally {
      appender.close();
    }
    const close = await named.waitClose(10_000);
    expect(close.code).toBe(1011);
    expect(close.reason).toMatch(/^resync: /);
    expect(received(named).map((u) => u.n)).toEqual([1, 2, 3]);
    expect((await busStats(a)).rewinds).toBe(rewindsBefore + 1);
    // The symbol's numbering restarted there: the next update is 3 again.
    const again = await a.stream('symbols=RW.A');
    expect((await again.nextOp('snapshot')).ticks[0]).toMatchObject({ n: 2, p: 20 });
    feed.sendPack({ s: 'RW.A', p: 21 });
    expect(await again.update(10_000)).toMatchObject({ n: 3, p: 21 });
  });

  test('a stalled node whose backlog the stream dropped resyncs instead of jumping', async () => {
    const sub = await b.stream('symbols=*');
    await sub.nextOp('snapshot');
    const symbols = Array.from({ length: 20 }, (_, i) => `HOT.${i}`);
    const feed = await a.feed();
    // Like an operator, keep only a few batches per symbol, so B's backlog
    // is dropped quickly.
    await jsm.streams.update(STREAM_NAME, { max_msgs_per_subject: HISTORY });
    const start = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
    proxy.pause();
    let p = 0;
    const flood = setInterval(() => {
      for (let k = 0; k < 4; k++) feed.sendPack(symbols.map((s) => ({ s, p: ++p })));
    }, 1);
    try {
      // B's consumer can have read at most ~1k messages ahead before it
      // stalled; go well past that.
      await waitFor(
        async () => (await jsm.streams.info(STREAM_NAME)).state.last_seq > start + 4000,
        'the stream to move on',
        20_000,
      );
    } finally {
      clearInterval(flood);
      proxy.resume();
    }
    const close = await sub.waitClose(20_000);
    expect(close.code).toBe(1011);
    expect(close.reason).toMatch(/^resync: /);
    expect(jumps(received(sub))).toEqual([]);
    expect((await busStats(b)).gaps).toBeGreaterThan(0);
    await waitFor(() => b.server.ready, 'node B ready again', 20_000);
  }, 60_000);
});
