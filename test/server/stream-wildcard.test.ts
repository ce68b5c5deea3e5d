/**
 * The "*" subscription: every symbol, each update exactly once even when the
 * symbol is also subscribed by name; unsubscribing "*" falls back to the
 * named subscriptions.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, type Update } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;

beforeAll(async () => {
  ts = await startServer();
  feed = await ts.feed('ack=1');
});

afterAll(async () => {
  await ts.stop();
});

async function publish(ticks: Record<string, unknown>[]): Promise<void> {
  feed.sendPack(ticks);
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: ticks.length, rejected: 0 });
}

/** Reads updates until `count` arrived, then checks nothing else follows. */
async function exactly(client: TestClient, count: number): Promise<Update[]> {
  const ups = await client.updates(count);
  await client.expectNone(150);
  return ups;
}

function key(u: Update): string {
  return `${u.s}#${u.n}`;
}

test('"*" receives every symbol, including symbols first seen after subscribing', async () => {
  const sub = await ts.stream('symbols=*');
  expect(await sub.nextData()).toEqual({
    op: 'subscribed',
    symbols: ['*'],
    epoch: expect.any(String),
  });
  expect(await sub.nextData()).toEqual({ op: 'snapshot', epoch: expect.any(String), ticks: [] });
  const ticks = Array.from({ length: 20 }, (_, i) => ({ s: `W.${i % 7}`, p: i }));
  await publish(ticks);
  const ups = await exactly(sub, 20);
  expect(ups.map((u) => [u.s, u.p])).toEqual(ticks.map((t) => [t.s, t.p]));
  await sub.close();
});

test('subscribed by name and through "*": each update exactly once', async () => {
  // Named first, then "*".
  const a = await ts.stream('symbols=W.X,W.Y');
  await a.nextOp('snapshot');
  await ts.subscribe(a, ['*']);
  // "*" first, then named.
  const b = await ts.stream('symbols=*');
  await b.nextOp('snapshot');
  await ts.subscribe(b, ['W.X', 'W.Y']);
  // Both in one request.
  const c = await ts.stream('symbols=W.X,*,W.Y');
  await c.nextOp('snapshot');

  const ticks = Array.from({ length: 30 }, (_, i) => ({ s: ['W.X', 'W.Y', 'W.Z'][i % 3]!, p: i }));
  // In several frames, including single-tick frames.
  await publish(ticks.slice(0, 10));
  for (const t of ticks.slice(10, 15)) await publish([t]);
  await publish(ticks.slice(15));

  for (const client of [a, b, c]) {
    const ups = await exactly(client, 30);
    const counts = new Map<string, number>();
    for (const u of ups) counts.set(key(u), (counts.get(key(u)) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(ups.map((u) => u.p)).toEqual(ticks.map((t) => t.p));
    await client.close();
  }
});

test('unsubscribing "*" falls back to the named subscriptions', async () => {
  const sub = await ts.stream('symbols=W.N1,W.N2');
  await sub.nextOp('snapshot');
  await ts.subscribe(sub, ['*']);
  await publish([
    { s: 'W.N1', p: 1 },
    { s: 'W.OTHER', p: 1 },
  ]);
  expect((await exactly(sub, 2)).map((u) => u.s)).toEqual(['W.N1', 'W.OTHER']);

  sub.sendPack({ op: 'unsubscribe', symbols: ['*'] });
  expect(await sub.nextData()).toEqual({ op: 'unsubscribed', symbols: ['*'] });
  await publish([
    { s: 'W.N1', p: 2 },
    { s: 'W.OTHER', p: 2 },
    { s: 'W.N2', p: 2 },
  ]);
  const ups = await exactly(sub, 2);
  expect(ups.map((u) => [u.s, u.p])).toEqual([
    ['W.N1', 2],
    ['W.N2', 2],
  ]);
});

test('a named unsubscribe while on "*" keeps "*" and drops the name from the fallback', async () => {
  const sub = await ts.stream('symbols=W.M1,W.M2,*');
  await sub.nextOp('snapshot');
  sub.sendPack({ op: 'unsubscribe', symbols: ['W.M1'] });
  await sub.nextOp('unsubscribed');
  await publish([
    { s: 'W.M1', p: 1 },
    { s: 'W.M2', p: 1 },
    { s: 'W.ELSE', p: 1 },
  ]);
  expect((await exactly(sub, 3)).map((u) => u.s)).toEqual(['W.M1', 'W.M2', 'W.ELSE']);
  sub.sendPack({ op: 'unsubscribe', symbols: ['*'] });
  await sub.nextOp('unsubscribed');
  await publish([
    { s: 'W.M1', p: 2 },
    { s: 'W.M2', p: 2 },
    { s: 'W.ELSE', p: 2 },
  ]);
  expect((await exactly(sub, 1)).map((u) => u.s)).toEqual(['W.M2']);
});

test('unsubscribing "*" without named subscriptions stops everything', async () => {
  const sub = await ts.stream('symbols=*');
  await sub.nextOp('snapshot');
  sub.sendPack({ op: 'unsubscribe', symbols: ['*'] });
  await sub.nextOp('unsubscribed');
  await publish([{ s: 'W.GONE', p: 1 }]);
  await sub.expectNone(150);
});

test('a "*" subscriber and a named subscriber see the same updates', async () => {
  const all = await ts.stream('symbols=*');
  const named = await ts.stream('symbols=W.SAME');
  await all.nextOp('snapshot');
  await named.nextOp('snapshot');
  await publish([
    { s: 'W.SAME', p: 1, x: 'a' },
    { s: 'W.SAME', p: 2, x: 'b' },
  ]);
  expect(await exactly(all, 2)).toEqual(await exactly(named, 2));
});
