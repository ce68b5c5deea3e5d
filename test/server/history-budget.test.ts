/**
 * --history-bytes end to end: past the budget the oldest updates are
 * evicted, /stats and /metrics say how much is held and how much was
 * evicted, and a `since` whose gap was evicted answers recovered:false with
 * the snapshot (while a gap still held is replayed).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, type Update, updatesOf } from '../helpers/clients.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const BUDGET = 1024 * 1024;
let ts: TestServer;
let feed: TestClient;

/** A valid tick of about 16 KB (strings are at most 256 bytes: many keys). */
function bigTick(s: string, p: number): Record<string, unknown> {
  const t: Record<string, unknown> = { s, p };
  for (let k = 0; k < 60; k++) t[`k${k}`] = 'v'.repeat(250);
  return t;
}

beforeAll(async () => {
  ts = await startServer({ history: 100, historyBytes: BUDGET });
  feed = await ts.feed('ack=1');
  // HB.OLD first, then about 2 MB of HB.NEW: HB.OLD's early updates go.
  for (let i = 1; i <= 20; i++) {
    feed.sendPack(bigTick('HB.OLD', i));
    await feed.nextOp('ack');
  }
  for (let i = 1; i <= 120; i++) {
    feed.sendPack(bigTick('HB.NEW', i));
    await feed.nextOp('ack');
  }
});

afterAll(async () => {
  await ts.stop();
});

test('/stats reports the bytes held within the budget, and the evictions', async () => {
  const stats = (await ts.stats()) as unknown as {
    history: { bytes: number; limit: number; evicted: number };
  };
  expect(stats.history.limit).toBe(BUDGET);
  expect(stats.history.bytes).toBeGreaterThan(0);
  expect(stats.history.bytes).toBeLessThanOrEqual(BUDGET);
  expect(stats.history.evicted).toBeGreaterThan(0);
});

test('/metrics reports the same', async () => {
  const res = await httpGet(ts.httpUrl('/metrics'));
  const value = (name: string): number =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.body)?.[1]);
  expect(value('tickwire_history_bytes_limit')).toBe(BUDGET);
  expect(value('tickwire_history_bytes')).toBeLessThanOrEqual(BUDGET);
  expect(value('tickwire_history_evicted_total')).toBeGreaterThan(0);
});

test('a gap that was evicted: recovered false and the snapshot', async () => {
  const sub = await ts.stream();
  sub.sendPack({
    op: 'subscribe',
    symbols: ['HB.OLD'],
    since: { 'HB.OLD': 1 },
    epoch: ts.server.pipeline.epoch,
  });
  expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: false });
  const snap = await sub.nextOp('snapshot');
  expect(snap.ticks).toHaveLength(1);
  expect(snap.ticks[0]).toMatchObject({ s: 'HB.OLD', n: 20 });
  await sub.close();
});

test('a gap still held is replayed', async () => {
  const sub = await ts.stream();
  sub.sendPack({
    op: 'subscribe',
    symbols: ['HB.NEW'],
    since: { 'HB.NEW': 118 },
    epoch: ts.server.pipeline.epoch,
  });
  expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: true });
  const replay = updatesOf(await sub.nextData())!;
  expect(replay.map((u: Update) => u.n)).toEqual([119, 120]);
  await sub.close();
});
