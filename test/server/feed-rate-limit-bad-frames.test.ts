/**
 * The feed rate limit never charges a bad frame, and a frame refused whole
 * counts what it actually holds: a batch header's claim is never trusted.
 * `dc 10 00` (array16 of 4,096 in 3 bytes) is bad_frame and takes no token;
 * so does a batch whose header fits its bytes but whose elements are broken;
 * and a frame refused while over the rate that turns out broken is answered
 * bad_frame, adding no ticks to the counters.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { TestClient } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const RATE = 100;
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ feedRate: RATE });
});

afterAll(async () => {
  await ts.stop();
});

const batch = (symbol: string, n: number): { s: string; p: number }[] =>
  Array.from({ length: n }, (_, i) => ({ s: symbol, p: i }));

/** An array header claiming `n` elements, followed by `n` reserved bytes (c1): a bad frame. */
function brokenBatch(n: number): Buffer {
  return Buffer.concat([Buffer.from([0xdc, n >> 8, n & 0xff]), Buffer.alloc(n, 0xc1)]);
}

async function expectBadFrame(feed: TestClient, frame: number): Promise<void> {
  expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'bad_frame' });
  expect(await feed.nextData()).toEqual({ op: 'ack', frame, accepted: 0, rejected: 0 });
}

test('dc 10 00 (4,096 claimed, none there) is bad_frame, counts no tick and takes no token', async () => {
  const feed = await ts.feed('ack=1');
  const before = await ts.stats();
  feed.sendBytes(Buffer.from([0xdc, 0x10, 0x00]));
  await expectBadFrame(feed, 1);
  const after = await ts.stats();
  expect(after.ticks.received).toBe(before.ticks.received);
  expect(after.ticks.rejected).toBe(before.ticks.rejected);
  expect(after.frames.bad).toBe(before.frames.bad + 1);
  // The bucket is still full: a whole second's worth passes.
  feed.sendPack(batch('FRB.A', RATE));
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 2, accepted: RATE, rejected: 0 });
  await feed.close();
});

test('a batch whose header fits but whose elements are broken takes no token', async () => {
  const feed = await ts.feed('ack=1');
  feed.sendBytes(brokenBatch(RATE));
  await expectBadFrame(feed, 1);
  feed.sendBytes(brokenBatch(RATE));
  await expectBadFrame(feed, 2);
  feed.sendPack(batch('FRB.B', RATE));
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 3, accepted: RATE, rejected: 0 });
  await feed.close();
});

test('over the rate, a broken frame is still bad_frame and adds no ticks', async () => {
  const feed = await ts.feed('ack=1');
  feed.sendPack(batch('FRB.C', RATE));
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: RATE, rejected: 0 });
  const before = await ts.stats();
  feed.sendBytes(brokenBatch(50));
  await expectBadFrame(feed, 2);
  const after = await ts.stats();
  expect(after.ticks.received).toBe(before.ticks.received);
  expect(after.ticks.rejected).toBe(before.ticks.rejected);
  expect(after.frames.bad).toBe(before.frames.bad + 1);
  // A well-formed frame over the rate is still refused, counting its ticks.
  feed.sendPack(batch('FRB.C', 50));
  expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'rate_limited' });
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 3, accepted: 0, rejected: 50 });
  const last = await ts.stats();
  expect(last.ticks.received).toBe(after.ticks.received + 50);
  expect(last.ticks.rejected).toBe(after.ticks.rejected + 50);
  await feed.close();
});
