/**
 * Recovery after a reconnect on the embedded bus: subscribe with `since`
 * replays exactly the missed updates (recovered: true) while they are in
 * history; otherwise recovered: false and the normal snapshot.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, type Update, updatesOf } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;

beforeAll(async () => {
  ts = await startServer({ history: 20 });
  feed = await ts.feed('ack=1');
});

afterAll(async () => {
  await ts.stop();
});

async function publish(s: string, count: number): Promise<void> {
  const ticks = Array.from({ length: count }, (_, i) => ({ s, p: i + 1 }));
  feed.sendPack(ticks);
  await feed.nextOp('ack');
}

test('replays exactly the missed updates instead of the snapshot, then goes live', async () => {
  await publish('RC.A', 5);
  await publish('RC.B', 2);
  const sub = await ts.stream();
  sub.sendPack({
    op: 'subscribe',
    symbols: ['RC.A', 'RC.B'],
    since: { 'RC.A': 3, 'RC.B': 2 },
    epoch: ts.server.pipeline.epoch,
  });
  expect(await sub.nextOp('subscribed')).toEqual({
    op: 'subscribed',
    symbols: ['RC.A', 'RC.B'],
    recovered: true,
    epoch: ts.server.pipeline.epoch,
  });
  const replay = updatesOf(await sub.nextData())!;
  expect(replay.map((u: Update) => `${u.s}#${u.n}`)).toEqual(['RC.A#4', 'RC.A#5']);
  await publish('RC.B', 1);
  expect(await sub.update()).toMatchObject({ s: 'RC.B', n: 3 });
});

test('nothing missed: recovered true and no replay frame before live updates', async () => {
  await publish('RC.C', 2);
  const sub = await ts.stream();
  sub.sendPack({
    op: 'subscribe',
    symbols: ['RC.C'],
    since: { 'RC.C': 2 },
    epoch: ts.server.pipeline.epoch,
  });
  expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: true });
  await publish('RC.C', 1);
  expect(await sub.update()).toMatchObject({ s: 'RC.C', n: 3 });
});

test('a gap older than the history: recovered false and the snapshot', async () => {
  await publish('RC.D', 30);
  const sub = await ts.stream();
  sub.sendPack({
    op: 'subscribe',
    symbols: ['RC.D'],
    since: { 'RC.D': 2 },
    epoch: ts.server.pipeline.epoch,
  });
  expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: false });
  const snap = await sub.nextOp('snapshot');
  expect(snap.ticks).toHaveLength(1);
  expect(snap.ticks[0]).toMatchObject({ s: 'RC.D', n: 30 });
});

test('JSON connections get the replay as JSON', async () => {
  await publish('RC.E', 3);
  const sub = await ts.stream('format=json');
  sub.sendText({
    op: 'subscribe',
    symbols: ['RC.E'],
    since: { 'RC.E': 1 },
    epoch: ts.server.pipeline.epoch,
  });
  expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: true });
  const replay = updatesOf(await sub.nextData())!;
  expect(replay.map((u) => u.n)).toEqual([2, 3]);
});
