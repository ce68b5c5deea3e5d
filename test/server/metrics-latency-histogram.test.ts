/**
 * /metrics exposes tickwire_pipeline_latency_seconds once ticks flow: one
 * sample per published tick (`_count` and the `+Inf` bucket equal
 * ticks.published), cumulative buckets, a positive `_sum`.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const NAME = 'tickwire_pipeline_latency_seconds';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

/** `name{labels}` → value, for the histogram's series. */
async function scrape(): Promise<Map<string, number>> {
  const res = await httpGet(ts.httpUrl('/metrics'));
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of res.body.split('\n')) {
    if (!line.startsWith(NAME)) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

test('before any tick: the histogram is there, all zero', async () => {
  const s = await scrape();
  expect(s.get(`${NAME}_count`)).toBe(0);
  expect(s.get(`${NAME}_bucket{le="+Inf"}`)).toBe(0);
});

test('after ticks: one sample per published tick, cumulative buckets', async () => {
  const feed = await ts.feed('ack=1');
  // A batch of three, an invalid tick among two, and one alone: 5 published.
  feed.sendPack([
    { s: 'MH.A', p: 1 },
    { s: 'MH.B', p: 2 },
    { s: 'MH.A', p: 3 },
  ]);
  feed.sendPack([{ s: 'MH.C', p: 1 }, { s: 'MH.C' }]);
  feed.sendPack({ s: 'MH.D', p: 5 });
  for (let i = 1; i <= 3; i++) expect((await feed.nextOp('ack')).frame).toBe(i);

  const published = (await ts.stats()).ticks.published;
  expect(published).toBe(5);
  const s = await scrape();
  expect(s.get(`${NAME}_count`)).toBe(published);
  expect(s.get(`${NAME}_bucket{le="+Inf"}`)).toBe(published);
  expect(s.get(`${NAME}_sum`)).toBeGreaterThan(0);
  const buckets = [...s.entries()].filter(([k]) => k.startsWith(`${NAME}_bucket`));
  expect(buckets.length).toBeGreaterThan(10);
  for (let i = 1; i < buckets.length; i++)
    expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
});
