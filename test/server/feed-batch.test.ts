/**
 * Batches: an array of up to 4096 tick maps. Each valid tick is published
 * (a "*" subscriber gets the frame's updates as one array, a named one each
 * update); 4097 elements is payload_too_large with nothing published and the
 * connection left open; [] is accepted and publishes nothing.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, isRecord } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let all: TestClient;

beforeAll(async () => {
  ts = await startServer();
  all = await ts.stream('symbols=*');
  await all.nextOp('snapshot');
});

afterAll(async () => {
  await ts.stop();
});

function batch(
  count: number,
  symbol: (i: number) => string,
): { s: string; p: number; i: number }[] {
  return Array.from({ length: count }, (_, i) => ({ s: symbol(i), p: 100 + i / 8, i }));
}

test('a batch of many ticks over several symbols: every tick published, n per symbol', async () => {
  const named = await ts.stream('symbols=FB.A,FB.B,FB.C');
  await named.nextOp('snapshot');
  const feed = await ts.feed('ack=1');
  const ticks = batch(300, (i) => ['FB.A', 'FB.B', 'FB.C'][i % 3]!);
  feed.sendPack(ticks);
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 300, rejected: 0 });

  // The "*" subscriber gets the whole frame as one array of updates.
  const frame = await all.next();
  expect(Array.isArray(frame.data)).toBe(true);
  const fromAll = frame.data as Record<string, unknown>[];
  const fromNamed = await named.updates(300);
  expect(fromAll).toHaveLength(300);
  fromAll.forEach((u, i) => {
    expect(u).toEqual({ ...ticks[i], n: Math.floor(i / 3) + 1, r: u.r });
  });
  // A named subscriber gets each symbol's updates in order (one frame per
  // symbol: the order across symbols is not part of the contract).
  expect(fromNamed).toHaveLength(300);
  for (const s of ['FB.A', 'FB.B', 'FB.C']) {
    const sent = ticks.filter((t) => t.s === s);
    const got = fromNamed.filter((u) => u.s === s);
    expect(got).toEqual(sent.map((t, k) => ({ ...t, n: k + 1, r: got[k]!.r })));
  }
  // Every update of one frame carries the frame's receive time.
  expect(new Set(fromAll.map((u) => u.r)).size).toBe(1);
  await named.close();
});

test('a batch of exactly 4096 ticks is accepted and published in full', async () => {
  const sub = await ts.stream('symbols=FB.MAX');
  await sub.nextOp('snapshot');
  const feed = await ts.feed('ack=1');
  const ticks = batch(4096, () => 'FB.MAX');
  feed.sendPack(ticks);
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 4096, rejected: 0 });
  const ups = await sub.updates(4096);
  expect(ups.map((u) => u.n)).toEqual(ticks.map((_, i) => i + 1));
  expect(ups.map((u) => u.i)).toEqual(ticks.map((t) => t.i));
  const frame = await all.next();
  expect(frame.data).toHaveLength(4096);
  await sub.close();
});

test('4097 ticks: payload_too_large, nothing published, counted as received and rejected; the feed stays open', async () => {
  const sub = await ts.stream('symbols=FB.OVER');
  await sub.nextOp('snapshot');
  const before = await ts.stats();
  const feed = await ts.feed('ack=1');
  feed.sendPack(batch(4097, () => 'FB.OVER'));
  const err = await feed.nextData();
  expect(err).toMatchObject({ op: 'error', code: 'payload_too_large' });
  expect(typeof err.message).toBe('string');
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 0, rejected: 4097 });
  const after = await ts.stats();
  expect(after.ticks.published).toBe(before.ticks.published);
  expect(after.ticks.received - before.ticks.received).toBe(4097);
  expect(after.ticks.rejected - before.ticks.rejected).toBe(4097);
  expect(after.symbols).toBe(before.symbols);
  await sub.expectNone(200);
  await all.expectNone(0);

  // Still open and working; the symbol's first published tick is n=1.
  expect(feed.isOpen).toBe(true);
  feed.sendPack({ s: 'FB.OVER', p: 1 });
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 2, accepted: 1, rejected: 0 });
  const u = await sub.update();
  expect(u).toEqual({ s: 'FB.OVER', p: 1, n: 1, r: u.r });
  expect((await all.next()).data).toEqual(u);
  await sub.close();
});

test('an empty batch is accepted and publishes nothing', async () => {
  const feed = await ts.feed('ack=1');
  feed.sendPack([]);
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 0, rejected: 0 });
  await all.expectNone(150, (m) => !isRecord(m.data) || m.data.op === undefined);
});

test('a batch with one valid tick reaches "*" subscribers as a single map', async () => {
  const feed = await ts.feed('ack=1');
  feed.sendPack([{ s: 'FB.SOLO', p: 5 }]);
  await feed.nextOp('ack');
  const m = await all.next();
  expect(m.data).toEqual({ s: 'FB.SOLO', p: 5, n: 1, r: m.data.r });
});
