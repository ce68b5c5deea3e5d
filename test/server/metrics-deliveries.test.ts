/**
 * tickwire_updates_delivered_total counts updates handed to subscribers,
 * one per update per subscriber (/stats/stream's `deliveries`).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

async function delivered(): Promise<number | undefined> {
  const body = (await httpGet(ts.httpUrl('/metrics'))).body;
  const m = /^tickwire_updates_delivered_total (\S+)$/m.exec(body);
  return m === null ? undefined : Number(m[1]);
}

test('3 ticks to 2 subscribers: 6', async () => {
  expect(await delivered()).toBe(0);
  const a = await ts.stream('symbols=MD.A');
  const b = await ts.stream('symbols=MD.A');
  await a.nextOp('snapshot');
  await b.nextOp('snapshot');
  const feed = await ts.feed('ack=1');
  feed.sendPack([
    { s: 'MD.A', p: 1 },
    { s: 'MD.A', p: 2 },
    { s: 'MD.A', p: 3 },
  ]);
  await feed.nextOp('ack');
  await a.updates(3);
  await b.updates(3);
  expect(await delivered()).toBe(6);
  expect(ts.server.statsSnapshot().deliveries).toBe(6);
});
