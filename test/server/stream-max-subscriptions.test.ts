/**
 * maxSubscriptions: a subscribe that would take a connection past the cap is
 * answered too_many_subscriptions and applied not at all; the connection
 * stays open. "*" counts as one subscription.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;

beforeAll(async () => {
  ts = await startServer({ maxSubscriptions: 3 });
  feed = await ts.feed('ack=1');
});

afterAll(async () => {
  await ts.stop();
});

async function publish(symbols: string[]): Promise<void> {
  feed.sendPack(symbols.map((s) => ({ s, p: 1 })));
  await feed.nextOp('ack');
}

test('up to the cap is fine; one more is too_many_subscriptions and not applied', async () => {
  const sub = await ts.stream('symbols=MS.A,MS.B');
  await sub.nextOp('snapshot');
  await ts.subscribe(sub, ['MS.C']);
  // Re-subscribing held symbols adds nothing, so it is still within the cap.
  await ts.subscribe(sub, ['MS.A', 'MS.C']);

  sub.sendPack({ op: 'subscribe', symbols: ['MS.A', 'MS.D'] });
  const err = await sub.nextData();
  expect(err).toEqual({ op: 'error', code: 'too_many_subscriptions', message: err.message });
  expect(typeof err.message).toBe('string');
  await sub.expectNone(100); // no subscribed, no snapshot

  await publish(['MS.A', 'MS.B', 'MS.C', 'MS.D']);
  const ups = await sub.updates(3);
  expect(ups.map((u) => u.s)).toEqual(['MS.A', 'MS.B', 'MS.C']);
  await sub.expectNone(100);
  expect(sub.isOpen).toBe(true);

  // After an unsubscribe there is room again.
  sub.sendPack({ op: 'unsubscribe', symbols: ['MS.B'] });
  await sub.nextOp('unsubscribed');
  await ts.subscribe(sub, ['MS.D']);
  await publish(['MS.B', 'MS.D']);
  expect(await sub.update()).toMatchObject({ s: 'MS.D' });
});

test('a request that alone exceeds the cap is refused whole, also at connect', async () => {
  const sub = await ts.stream('symbols=MS.E,MS.F,MS.G,MS.H');
  expect(await sub.nextData()).toMatchObject({ op: 'error', code: 'too_many_subscriptions' });
  await publish(['MS.E', 'MS.F']);
  await sub.expectNone(150);
  // Nothing was applied, so three fit.
  const { subscribed } = await ts.subscribe(sub, ['MS.E', 'MS.F', 'MS.G']);
  expect(subscribed).toEqual({
    op: 'subscribed',
    symbols: ['MS.E', 'MS.F', 'MS.G'],
    epoch: expect.any(String),
  });
});

test('"*" counts as one subscription', async () => {
  const sub = await ts.stream('symbols=MS.A,MS.B,*');
  await sub.nextOp('snapshot');
  sub.sendPack({ op: 'subscribe', symbols: ['MS.C'] });
  expect(await sub.nextData()).toMatchObject({ code: 'too_many_subscriptions' });
  const json = await ts.stream('format=json&symbols=*');
  await json.nextOp('snapshot');
  json.sendText({ op: 'subscribe', symbols: ['MS.A', 'MS.B', 'MS.C'] });
  const m = await json.next();
  expect(m.binary).toBe(false);
  expect(m.data).toMatchObject({ op: 'error', code: 'too_many_subscriptions' });
});
