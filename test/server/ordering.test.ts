/**
 * Ordering after a subscribe while a feed is publishing: `subscribed`, then
 * `snapshot`, then live updates; the first live update of a symbol is the
 * snapshot's n + 1 (or n = 1 for a symbol without a snapshot entry), and
 * each symbol's n then goes up by exactly 1.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Msg, type TestClient, type Update, sleep } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let running = true;
let pump: Promise<void>;
const SYMBOLS = ['OR.A', 'OR.B', 'OR.C'];

beforeAll(async () => {
  ts = await startServer();
  const feed = await ts.feed();
  // A feed publishing continuously in the background: one frame per
  // iteration, a batch or a single tick, covering all symbols.
  pump = (async () => {
    let i = 0;
    while (running) {
      if (i % 2 === 0) feed.sendPack(SYMBOLS.map((s) => ({ s, p: i })));
      else feed.sendPack({ s: SYMBOLS[i % SYMBOLS.length], p: i });
      i++;
      await sleep(1);
    }
  })();
});

afterAll(async () => {
  running = false;
  await pump;
  await ts.stop();
});

/**
 * Checks the stream after a subscribe: subscribed, snapshot, then `count`
 * live updates stitched onto the snapshot without gap or overlap.
 */
async function checkStitching(sub: TestClient, requested: string[], count: number): Promise<void> {
  const subscribed = await sub.next();
  expect(subscribed.data).toEqual({
    op: 'subscribed',
    symbols: requested,
    epoch: expect.any(String),
  });
  const snapshot = await sub.next();
  expect(snapshot.data.op).toBe('snapshot');
  expect(subscribed.binary).toBe(snapshot.binary);
  const lastN = new Map<string, number>();
  for (const u of snapshot.data.ticks as Msg[]) lastN.set(u.s, u.n);
  const live = await sub.updatesAtLeast(count, 10_000);
  for (const u of live) {
    if (!requested.includes('*')) expect(requested).toContain(u.s);
    expect(u.n).toBe((lastN.get(u.s) ?? 0) + 1);
    lastN.set(u.s, u.n);
  }
}

test('?symbols= at connect: subscribed → snapshot → updates, n stitched onto the snapshot', async () => {
  // Let the pump publish something first, so snapshots are not empty.
  await sleep(20);
  const clients = await Promise.all([
    ts.stream('symbols=OR.A,OR.B'),
    ts.stream('symbols=OR.C'),
    ts.stream('symbols=*'),
    ts.stream('symbols=OR.A,OR.B&format=json'),
    ts.stream('symbols=*&format=json'),
  ]);
  await Promise.all([
    checkStitching(clients[0], ['OR.A', 'OR.B'], 40),
    checkStitching(clients[1], ['OR.C'], 20),
    checkStitching(clients[2], ['*'], 60),
    checkStitching(clients[3], ['OR.A', 'OR.B'], 40),
    checkStitching(clients[4], ['*'], 60),
  ]);
  const snapshotOf = (c: TestClient): Msg => c.history[1]!.data;
  expect(snapshotOf(clients[2]).ticks.length).toBe(3);
  await Promise.all(clients.map((c) => c.close()));
});

test('subscribe messages mid-stream: the same order, every time', async () => {
  const sub = await ts.stream();
  for (let round = 0; round < 5; round++) {
    const requested = round % 2 === 0 ? ['OR.B'] : ['OR.A', 'OR.C'];
    sub.sendPack({ op: 'subscribe', symbols: requested });
    await checkStitching(sub, requested, 10);
    sub.sendPack({ op: 'unsubscribe', symbols: requested });
    // Updates before the reply are skipped; none may follow it.
    expect(await sub.nextOp('unsubscribed')).toEqual({ op: 'unsubscribed', symbols: requested });
  }
});

test('per symbol, n only goes up by 1 on a long run', async () => {
  const sub = await ts.stream('symbols=*');
  await sub.nextOp('subscribed');
  const snap = await sub.nextData();
  const lastN = new Map((snap.ticks as Update[]).map((u): [string, number] => [u.s, u.n]));
  const live = await sub.updatesAtLeast(600, 20_000);
  for (const u of live) {
    expect(u.n).toBe((lastN.get(u.s) ?? 0) + 1);
    lastN.set(u.s, u.n);
  }
});
