/**
 * Throttles are rounded up to a fixed set of steps, so one connection runs
 * at most MAX_THROTTLE_GROUPS timers, however many distinct values it asks
 * for (10,000 distinct throttles used to mean 10,000 timers: 82% CPU with
 * no symbol published). Symbols whose throttles round to the same step
 * share a timer and travel together in one frame.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, updatesOf } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import {
  MAX_THROTTLE_GROUPS,
  MAX_THROTTLE_MS,
  THROTTLE_STEPS,
  quantiseThrottle,
} from '../../src/server/throttle.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

/** The server-side throttle of the only stream connection with delivery state. */
function timersOfThrottled(): number | undefined {
  for (const ws of ts.server.sockets) {
    const data = ws.getUserData();
    if (data.kind === 'stream' && data.delivery !== undefined) return data.delivery.throttle.timers;
  }
  return undefined;
}

test('rounding: up to the next step, never more than a third longer', () => {
  expect(THROTTLE_STEPS.slice(0, 12)).toEqual([10, 13, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125]);
  expect(quantiseThrottle(0)).toBe(0);
  for (const ms of [10, 100, 200, 250, 500, 1000, 60_000]) expect(quantiseThrottle(ms)).toBe(ms);
  expect(quantiseThrottle(11)).toBe(13);
  expect(quantiseThrottle(16)).toBe(20);
  expect(quantiseThrottle(1001)).toBe(1250);
  expect(quantiseThrottle(MAX_THROTTLE_MS)).toBe(MAX_THROTTLE_MS);
  for (let ms = 10; ms < 100_000; ms += 7) {
    const q = quantiseThrottle(ms);
    expect(q).toBeGreaterThanOrEqual(ms);
    expect(q / ms).toBeLessThanOrEqual(4 / 3);
  }
  expect(MAX_THROTTLE_GROUPS).toBeLessThanOrEqual(100);
});

test('150 distinct throttles on one connection run at most MAX_THROTTLE_GROUPS timers', async () => {
  const client = await ts.stream();
  // 10 ms to about 37 minutes, all distinct: 150 timers before rounding.
  const throttles = Array.from({ length: 150 }, (_, k) => 10 + k * k * 100 + k);
  throttles.forEach((throttle, k) => {
    client.sendPack({ op: 'subscribe', symbols: [`TG.${k}`], throttle });
  });
  for (let k = 0; k < throttles.length; k++) await client.nextOp('snapshot');
  const timers = timersOfThrottled();
  expect(timers).toBe(new Set(throttles.map(quantiseThrottle)).size);
  expect(timers).toBeLessThanOrEqual(MAX_THROTTLE_GROUPS);
  // Unsubscribing everything stops every timer.
  client.sendPack({ op: 'unsubscribe', symbols: throttles.map((_, k) => `TG.${k}`) });
  await client.nextOp('unsubscribed');
  expect(timersOfThrottled()).toBe(0);
  await client.close();
});

test('throttles that round to the same step share one timer and one frame', async () => {
  const client: TestClient = await ts.stream();
  client.sendPack({ op: 'subscribe', symbols: ['TG.A'], throttle: 1001 });
  await client.nextOp('snapshot');
  client.sendPack({ op: 'subscribe', symbols: ['TG.B'], throttle: 1002 });
  await client.nextOp('snapshot');
  const feed = await ts.feed();
  feed.sendPack([
    { s: 'TG.A', p: 1 },
    { s: 'TG.B', p: 1 },
  ]);
  // Both are due at the same firing (1250 ms): one array frame with both.
  const frame = await client.next(undefined, 3000);
  const ups = updatesOf(frame.data);
  expect(ups?.map((u) => u.s).sort()).toEqual(['TG.A', 'TG.B']);
  await Promise.all([client.close(), feed.close()]);
});
