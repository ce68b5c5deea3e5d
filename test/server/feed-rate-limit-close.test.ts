/**
 * A feed that stays over its tick rate, refused frame after frame with no
 * quiet second in between, is closed after 5 s with 1008 and a reason
 * starting "rate_limited"; a feed that pauses between bursts is not.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const RATE = 50;
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ feedRate: RATE });
});

afterAll(async () => {
  await ts.stop();
});

test('over the rate for 5 s: closed 1008 rate_limited; a feed within it stays', async () => {
  const hog = await ts.feed();
  const calm = await ts.feed('ack=1');
  const started = Date.now();
  let sent = 0;
  // 200 ticks/s against 50/s: most frames are refused, continuously.
  const timer = setInterval(() => {
    if (hog.isOpen) hog.sendPack({ s: 'FRC.A', p: sent++ });
  }, 5);
  // The calm feed sends 10 ticks/s meanwhile.
  let calmFrames = 0;
  const calmTimer = setInterval(() => {
    calm.sendPack({ s: 'FRC.B', p: calmFrames++ });
  }, 100);
  try {
    const close = await hog.waitClose(10_000);
    const elapsed = Date.now() - started;
    expect(close.code).toBe(1008);
    expect(close.reason.startsWith('rate_limited')).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(5000);
    expect(elapsed).toBeLessThan(8000);
    console.info(`feed at 4x its rate: closed 1008 after ${elapsed} ms of sending`);
  } finally {
    clearInterval(timer);
    clearInterval(calmTimer);
  }
  expect(calm.isOpen).toBe(true);
  const acks = calm.history.filter((m) => m.data.op === 'ack');
  expect(acks.length).toBeGreaterThan(0);
  expect(acks.every((m) => m.data.accepted === 1)).toBe(true);
  expect((await ts.stats()).refused).toMatchObject({ rate_limited_closes: 1 });
  await calm.close();
}, 15_000);

test('bursts over the rate separated by quiet seconds do not close the feed', async () => {
  const feed = await ts.feed('ack=1');
  for (let round = 0; round < 3; round++) {
    // A burst of 2x the bucket: the second half is refused.
    for (let i = 0; i < 2 * RATE; i++) feed.sendPack({ s: 'FRC.C', p: i });
    await sleep(2100);
  }
  expect(feed.isOpen).toBe(true);
  const acks = feed.history.filter((m) => m.data.op === 'ack');
  expect(acks).toHaveLength(6 * RATE);
  expect(acks.filter((m) => m.data.accepted === 0).length).toBeGreaterThan(0);
  await feed.close();
}, 15_000);
