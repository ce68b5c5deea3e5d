/**
 * A connection already on "*" (live) that then subscribes to a named symbol
 * with a throttle: "*" still delivers every update once, live; the throttle
 * of the named symbol must not start a second delivery of any symbol (a
 * repeated `n`).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep, updatesOf } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

test('"*" live, then a throttled named subscribe: no update arrives twice', async () => {
  const sub = await ts.stream('symbols=*');
  await sub.nextOp('snapshot');
  const feed = await ts.feed('ack=1');
  feed.sendPack([
    { s: 'TW.A', p: 1 },
    { s: 'TW.B', p: 1 },
  ]);
  await feed.nextOp('ack');
  sub.sendPack({ op: 'subscribe', symbols: ['TW.A'], throttle: 100 });
  await sub.nextOp('subscribed');
  for (let i = 2; i <= 6; i++) {
    feed.sendPack([
      { s: 'TW.A', p: i },
      { s: 'TW.B', p: i },
    ]);
    await feed.nextOp('ack');
    await sleep(60);
  }
  await sleep(300);
  const seen = new Map<string, number[]>();
  for (const m of sub.history) {
    for (const u of updatesOf(m.data) ?? []) {
      const list = seen.get(u.s) ?? [];
      list.push(u.n);
      seen.set(u.s, list);
    }
  }
  // Each symbol's n goes up by one, every update once (the snapshot of the
  // named subscribe may repeat the last one; it comes as `snapshot`, not here).
  expect(seen.get('TW.B')).toEqual([1, 2, 3, 4, 5, 6]);
  expect(seen.get('TW.A')).toEqual([1, 2, 3, 4, 5, 6]);
});
