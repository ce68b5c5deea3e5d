/**
 * The snapshot after a subscribe: the last update (with n and r) of each
 * requested symbol that has one, in request order; an empty array when none;
 * every known symbol for "*".
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Msg, type TestClient, type Update } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;
/** Sees every update, to compare snapshots against. */
let watcher: TestClient;
/** Last update seen per symbol by the watcher. */
const last = new Map<string, Msg>();

beforeAll(async () => {
  ts = await startServer();
  feed = await ts.feed('ack=1');
  watcher = await ts.stream('symbols=*');
  await watcher.nextOp('snapshot');
});

afterAll(async () => {
  await ts.stop();
});

async function publish(ticks: Record<string, unknown>[]): Promise<void> {
  feed.sendPack(ticks);
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: ticks.length });
  for (const u of await watcher.updates(ticks.length)) last.set(u.s, u);
}

test('before anything was published: an empty array', async () => {
  const sub = await ts.stream('symbols=SN.A,SN.B');
  await sub.nextOp('subscribed');
  expect(await sub.nextData()).toEqual({ op: 'snapshot', epoch: expect.any(String), ticks: [] });
  const all = await ts.stream('symbols=*');
  await all.nextOp('subscribed');
  expect(await all.nextData()).toEqual({ op: 'snapshot', epoch: expect.any(String), ticks: [] });
});

test('holds the last update of each requested symbol, with n and r, in request order', async () => {
  await publish([
    { s: 'SN.A', p: 1 },
    { s: 'SN.B', p: 10, venue: 'X' },
    { s: 'SN.A', p: 2, q: 5 },
    { s: 'SN.C', p: 100 },
  ]);
  await publish([{ s: 'SN.A', p: 3, t: 1_700_000_000_000_000 }]);
  const sub = await ts.stream('symbols=SN.B,SN.NONE,SN.A');
  await sub.nextOp('subscribed');
  const snap = await sub.nextData();
  expect(snap).toEqual({
    op: 'snapshot',
    epoch: expect.any(String),
    ticks: [last.get('SN.B'), last.get('SN.A')],
  });
  expect(snap.ticks[0]).toEqual({ s: 'SN.B', p: 10, venue: 'X', n: 1, r: last.get('SN.B').r });
  expect(snap.ticks[1]).toEqual({
    s: 'SN.A',
    p: 3,
    t: 1_700_000_000_000_000,
    n: 3,
    r: last.get('SN.A').r,
  });
  expect(Number.isInteger(snap.ticks[1].r)).toBe(true);
});

test('symbols without updates are left out; all-unknown gives an empty array', async () => {
  const sub = await ts.stream('symbols=SN.NOPE1,SN.NOPE2');
  await sub.nextOp('subscribed');
  expect(await sub.nextData()).toEqual({ op: 'snapshot', epoch: expect.any(String), ticks: [] });
});

test('"*" gets every known symbol in order of first appearance', async () => {
  await publish([{ s: 'SN.D', p: 7 }]);
  const sub = await ts.stream('symbols=*');
  await sub.nextOp('subscribed');
  const snap = await sub.nextData();
  expect((snap.ticks as Update[]).map((u) => u.s)).toEqual(['SN.A', 'SN.B', 'SN.C', 'SN.D']);
  expect(snap.ticks).toEqual(['SN.A', 'SN.B', 'SN.C', 'SN.D'].map((s) => last.get(s) as unknown));
});

test('a later subscribe on the same connection gets a snapshot of just its request', async () => {
  const sub = await ts.stream('symbols=SN.A');
  await sub.nextOp('snapshot');
  const { subscribed, snapshot } = await ts.subscribe(sub, ['SN.C', 'SN.A']);
  expect(subscribed).toEqual({
    op: 'subscribed',
    symbols: ['SN.C', 'SN.A'],
    epoch: expect.any(String),
  });
  expect(snapshot).toEqual({
    op: 'snapshot',
    epoch: expect.any(String),
    ticks: [last.get('SN.C'), last.get('SN.A')],
  });
});

test('the snapshot follows newer updates', async () => {
  await publish([{ s: 'SN.C', p: 101 }]);
  const sub = await ts.stream('symbols=SN.C');
  await sub.nextOp('subscribed');
  const snap = await sub.nextData();
  expect(snap.ticks).toEqual([last.get('SN.C')]);
  expect(snap.ticks[0]).toMatchObject({ p: 101, n: 2 });
});

test('rejected ticks never show up in a snapshot', async () => {
  feed.sendPack([{ s: 'SN.E', p: 'bad' }, { s: 'SN.E', p: 1 }, { s: 'SN.E' }]);
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 1, rejected: 2 });
  for (const u of await watcher.updates(1)) last.set(u.s, u);
  const sub = await ts.stream('symbols=SN.E');
  await sub.nextOp('subscribed');
  expect((await sub.nextData()).ticks).toEqual([last.get('SN.E')]);
  expect(last.get('SN.E')).toMatchObject({ p: 1, n: 1 });
});
