/**
 * The publisher's delivery counter (behind `updates_out` on /stats/stream and
 * the load test's deliveries) counts updates per subscriber, whether an
 * update travels alone or in a batch frame.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

test('a batch of 5 ticks to one "*" and one named subscriber counts 10 deliveries', async () => {
  const star = await ts.stream('symbols=*');
  const named = await ts.stream('symbols=DLV');
  const feed = await ts.feed('ack=1');
  const before = ts.server.publisher.deliveries;
  feed.sendPack([1, 2, 3, 4, 5].map((p) => ({ s: 'DLV', p })));
  await feed.next((m) => (m.data as { op?: string }).op === 'ack');
  // Both subscribers really receive all five.
  const batch = await star.next((m) => Array.isArray(m.data));
  expect((batch.data as unknown[]).length).toBe(5);
  // The named one too: one frame of the symbol's five updates.
  const own = await named.next((m) => Array.isArray(m.data));
  expect((own.data as { s: string }[]).map((u) => u.s)).toEqual(Array(5).fill('DLV'));
  expect(ts.server.publisher.deliveries - before).toBe(10);
  await Promise.all([star.close(), named.close(), feed.close()]);
});
