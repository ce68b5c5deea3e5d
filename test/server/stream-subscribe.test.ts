/**
 * /stream subscriptions by name: ?symbols= at connect, subscribe and
 * unsubscribe messages, and live updates that start and stop with them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestClient } from '../helpers/clients.js';
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

/** Publishes ticks and waits for the feed's ack, so they have been fanned out. */
async function publish(...ticks: Record<string, unknown>[]): Promise<void> {
  feed.sendPack(ticks.length === 1 ? ticks[0] : ticks);
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: ticks.length, rejected: 0 });
}

describe('?symbols= at connect', () => {
  test('gives subscribed, then snapshot, then live updates', async () => {
    const sub = await ts.stream('symbols=SS.A,SS.B');
    const first = await sub.next();
    expect(first.binary).toBe(true);
    expect(first.data).toEqual({
      op: 'subscribed',
      symbols: ['SS.A', 'SS.B'],
      epoch: expect.any(String),
    });
    expect((await sub.next()).data).toEqual({
      op: 'snapshot',
      epoch: expect.any(String),
      ticks: [],
    });
    await publish({ s: 'SS.A', p: 1 }, { s: 'SS.C', p: 2 }, { s: 'SS.B', p: 3 });
    const ups = await sub.updates(2);
    expect(ups.map((u) => [u.s, u.p, u.n])).toEqual([
      ['SS.A', 1, 1],
      ['SS.B', 3, 1],
    ]);
    await sub.expectNone(100);
  });

  test('duplicates are removed, request order kept', async () => {
    const sub = await ts.stream('symbols=SS.Z,SS.A,SS.Z');
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['SS.Z', 'SS.A'],
      epoch: expect.any(String),
    });
    expect((await sub.nextData()).op).toBe('snapshot');
  });

  test('an invalid ?symbols= list: bad_request after open, nothing subscribed', async () => {
    const sub = await ts.stream('symbols=SS.A,bad%20symbol');
    expect(await sub.nextData()).toMatchObject({ op: 'error', code: 'bad_request' });
    await publish({ s: 'SS.A', p: 9 });
    await sub.expectNone(150);
    expect(sub.isOpen).toBe(true);
    // The connection still takes a proper subscribe.
    await ts.subscribe(sub, ['SS.A']);
    await publish({ s: 'SS.A', p: 10 });
    expect(await sub.update()).toMatchObject({ s: 'SS.A', p: 10 });
  });

  test('without ?symbols= nothing is sent until the client subscribes', async () => {
    const sub = await ts.stream();
    await publish({ s: 'SS.A', p: 11 });
    await sub.expectNone(150);
  });
});

describe('subscribe / unsubscribe messages', () => {
  test('subscribe replies subscribed (request order, de-duplicated), then snapshot', async () => {
    const sub = await ts.stream();
    sub.sendPack({ op: 'subscribe', symbols: ['SS.Q', 'SS.P', 'SS.Q'] });
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['SS.Q', 'SS.P'],
      epoch: expect.any(String),
    });
    expect(await sub.nextData()).toEqual({ op: 'snapshot', epoch: expect.any(String), ticks: [] });
  });

  test('subscriptions add up; subscribing again is idempotent (no duplicate updates)', async () => {
    const sub = await ts.stream('symbols=SS.D');
    await sub.nextOp('snapshot');
    await ts.subscribe(sub, ['SS.E']);
    await ts.subscribe(sub, ['SS.D', 'SS.E']);
    await publish({ s: 'SS.D', p: 1 }, { s: 'SS.E', p: 2 }, { s: 'SS.F', p: 3 });
    const ups = await sub.updates(2);
    expect(ups.map((u) => u.s)).toEqual(['SS.D', 'SS.E']);
    await sub.expectNone(150);
  });

  test('unsubscribe replies unsubscribed and live updates stop', async () => {
    const sub = await ts.stream('symbols=SS.G,SS.H');
    await sub.nextOp('snapshot');
    await publish({ s: 'SS.G', p: 1 }, { s: 'SS.H', p: 1 });
    expect((await sub.updates(2)).map((u) => u.s)).toEqual(['SS.G', 'SS.H']);

    sub.sendPack({ op: 'unsubscribe', symbols: ['SS.G'] });
    expect(await sub.nextData()).toEqual({ op: 'unsubscribed', symbols: ['SS.G'] });
    await publish({ s: 'SS.G', p: 2 }, { s: 'SS.H', p: 2 });
    const u = await sub.update();
    expect(u).toMatchObject({ s: 'SS.H', p: 2, n: 2 });
    await sub.expectNone(150);

    sub.sendPack({ op: 'unsubscribe', symbols: ['SS.H'] });
    expect(await sub.nextData()).toEqual({ op: 'unsubscribed', symbols: ['SS.H'] });
    await publish({ s: 'SS.G', p: 3 }, { s: 'SS.H', p: 3 });
    await sub.expectNone(150);
    expect(sub.isOpen).toBe(true);
  });

  test('unsubscribing a symbol never subscribed is not an error', async () => {
    const sub = await ts.stream('symbols=SS.I');
    await sub.nextOp('snapshot');
    sub.sendPack({ op: 'unsubscribe', symbols: ['SS.NEVER', 'SS.I'] });
    expect(await sub.nextData()).toEqual({ op: 'unsubscribed', symbols: ['SS.NEVER', 'SS.I'] });
    await publish({ s: 'SS.I', p: 1 });
    await sub.expectNone(150);
  });

  test('re-subscribing after unsubscribe gives a fresh snapshot and the updates again', async () => {
    const sub = await ts.stream('symbols=SS.J');
    await sub.nextOp('snapshot');
    await publish({ s: 'SS.J', p: 1 });
    await sub.updates(1);
    sub.sendPack({ op: 'unsubscribe', symbols: ['SS.J'] });
    await sub.nextOp('unsubscribed');
    await publish({ s: 'SS.J', p: 2 });
    await sub.expectNone(100);
    const { snapshot } = await ts.subscribe(sub, ['SS.J']);
    expect(snapshot).toMatchObject({ op: 'snapshot', ticks: [{ s: 'SS.J', p: 2, n: 2 }] });
    await publish({ s: 'SS.J', p: 3 });
    expect(await sub.update()).toMatchObject({ s: 'SS.J', p: 3, n: 3 });
  });

  test('two subscribers of the same symbol each get every update', async () => {
    const a = await ts.stream('symbols=SS.K');
    const b = await ts.stream('symbols=SS.K');
    await a.nextOp('snapshot');
    await b.nextOp('snapshot');
    for (let i = 0; i < 5; i++) await publish({ s: 'SS.K', p: i });
    const ua = await a.updates(5);
    const ub = await b.updates(5);
    expect(ua).toEqual(ub);
    expect(ua.map((u) => u.n)).toEqual([1, 2, 3, 4, 5]);
  });

  test('closing a subscriber does not disturb the others', async () => {
    const a = await ts.stream('symbols=SS.L');
    const b = await ts.stream('symbols=SS.L');
    await a.nextOp('snapshot');
    await b.nextOp('snapshot');
    await a.close();
    await publish({ s: 'SS.L', p: 1 });
    expect(await b.update()).toMatchObject({ s: 'SS.L', n: 1 });
  });
});

describe('subscribe options (names fixed by the contract)', () => {
  test('since: subscribed carries recovered; false → snapshot, true → the missed updates in order', async () => {
    await publish({ s: 'SS.SINCE', p: 1 }, { s: 'SS.SINCE', p: 2 }, { s: 'SS.SINCE', p: 3 });
    const sub = await ts.stream();
    sub.sendPack({
      op: 'subscribe',
      symbols: ['SS.SINCE'],
      since: { 'SS.SINCE': 1 },
      epoch: ts.server.pipeline.epoch,
    });
    const subscribed = await sub.nextData();
    expect(subscribed).toMatchObject({ op: 'subscribed', symbols: ['SS.SINCE'] });
    expect(typeof subscribed.recovered).toBe('boolean');
    if (subscribed.recovered === false) {
      const snap = await sub.nextData();
      expect(snap).toMatchObject({ op: 'snapshot', ticks: [{ s: 'SS.SINCE', p: 3, n: 3 }] });
    } else {
      // Replay of n = 2, 3 instead of the snapshot.
      const replay = await sub.updates(2);
      expect(replay.map((u) => u.n)).toEqual([2, 3]);
    }
    await publish({ s: 'SS.SINCE', p: 4 });
    expect(await sub.update()).toMatchObject({ s: 'SS.SINCE', p: 4, n: 4 });
  });

  test('throttle: accepted; updates keep their n order and the latest one arrives', async () => {
    const sub = await ts.stream();
    sub.sendText({ op: 'subscribe', symbols: ['SS.THR'], throttle: 50 });
    expect(await sub.nextData()).toMatchObject({ op: 'subscribed', symbols: ['SS.THR'] });
    expect(await sub.nextData()).toMatchObject({ op: 'snapshot' });
    for (let i = 1; i <= 10; i++) feed.sendPack({ s: 'SS.THR', p: i });
    for (let i = 1; i <= 10; i++) await feed.nextOp('ack');
    let lastN = 0;
    while (lastN < 10) {
      const u = await sub.update();
      expect(u.n).toBeGreaterThan(lastN);
      expect(u.p).toBe(u.n);
      lastN = u.n;
    }
  });
});
