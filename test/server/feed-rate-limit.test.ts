/**
 * feedRate (ticks/s per feed connection, 1 s burst): a frame with more ticks
 * than the feed's bucket holds is refused whole: {op:"error",
 * code:"rate_limited"}, ack accepted 0, nothing published, the connection
 * stays open; its ticks count as received and rejected, the frame in
 * `refused.rate_limited_frames`. The bucket refills at the rate.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const RATE = 100;
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ feedRate: RATE });
});

afterAll(async () => {
  await ts.stop();
});

const batch = (symbol: string, n: number, from = 0): { s: string; p: number }[] =>
  Array.from({ length: n }, (_, i) => ({ s: symbol, p: from + i }));

test('over the rate: the frame is refused with rate_limited, the feed stays open, the bucket refills', async () => {
  const sub = await ts.stream('symbols=FRL.A');
  await sub.nextOp('snapshot');
  const feed = await ts.feed('ack=1');
  const before = await ts.stats();

  // A full bucket (1 s worth) passes at once.
  feed.sendPack(batch('FRL.A', RATE));
  expect(await feed.nextOp('ack')).toEqual({ op: 'ack', frame: 1, accepted: RATE, rejected: 0 });
  expect(await sub.updates(RATE)).toHaveLength(RATE);

  // The bucket is (nearly) empty: the next 50 are refused, all of them.
  feed.sendPack(batch('FRL.A', 50));
  const error = await feed.nextData();
  expect(error).toMatchObject({ op: 'error', code: 'rate_limited' });
  expect(typeof error.message).toBe('string');
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 2, accepted: 0, rejected: 50 });
  await sub.expectNone(100);
  expect(feed.isOpen).toBe(true);

  const after = await ts.stats();
  expect(after.ticks.received - before.ticks.received).toBe(RATE + 50);
  expect(after.ticks.rejected - before.ticks.rejected).toBe(50);
  expect(after.ticks.published - before.ticks.published).toBe(RATE);
  expect(after.refused).toMatchObject({ rate_limited_frames: 1, rate_limited_closes: 0 });

  // 0.6 s later the bucket holds about 60 ticks again.
  await sleep(600);
  feed.sendPack(batch('FRL.A', 50, 1000));
  expect(await feed.nextData()).toEqual({ op: 'ack', frame: 3, accepted: 50, rejected: 0 });
  const ups = await sub.updates(50);
  expect(ups.map((u) => u.n)).toEqual(Array.from({ length: 50 }, (_, i) => RATE + 1 + i));
  await Promise.all([sub.close(), feed.close()]);
});

test('each feed has its own bucket; single-tick frames count one each', async () => {
  const a = await ts.feed('ack=1');
  const b = await ts.feed('ack=1');
  a.sendPack(batch('FRL.B', RATE));
  expect(await a.nextOp('ack')).toMatchObject({ accepted: RATE });
  a.sendPack({ s: 'FRL.B', p: 1 });
  expect(await a.nextOp('ack')).toMatchObject({ accepted: 0, rejected: 1 });
  b.sendPack({ s: 'FRL.B', p: 2 });
  expect(await b.nextOp('ack')).toMatchObject({ accepted: 1, rejected: 0 });
  await Promise.all([a.close(), b.close()]);
});

test('a batch larger than the whole bucket passes when the bucket is full, then the feed waits', async () => {
  const feed = await ts.feed('ack=1');
  feed.sendPack(batch('FRL.C', 3 * RATE));
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 3 * RATE });
  feed.sendPack({ s: 'FRL.C', p: 1 });
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 0, rejected: 1 });
  await feed.close();
});

test('bad frames and text frames take no tokens', async () => {
  const feed = await ts.feed('ack=1');
  feed.sendBytes(Buffer.from([0xc1]));
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 0, rejected: 0 });
  feed.sendText('hello');
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 0, rejected: 0 });
  feed.sendPack(batch('FRL.D', RATE));
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: RATE });
  await feed.close();
});

test('feedRate 0: unlimited', async () => {
  const open = await startServer({ feedRate: 0 });
  try {
    const feed = await open.feed('ack=1');
    for (let i = 0; i < 5; i++) feed.sendPack(batch('FRL.E', 4096));
    for (let i = 1; i <= 5; i++)
      expect(await feed.nextOp('ack')).toMatchObject({ frame: i, accepted: 4096 });
  } finally {
    await open.stop();
  }
});
