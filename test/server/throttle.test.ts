/**
 * `subscribe` with `throttle: MS` delivers at most one update per symbol per
 * MS, always the latest: 50 updates spread over about a second with
 * throttle 200 arrive as a handful, numbered, in order, ending with the
 * latest; the skipped ones are counted as dropped. JSON and MessagePack.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { bySymbol, gapsOf, receivedUpdates } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

const UPDATES = 50;

test.each(['msgpack', 'json'])('throttle 200 over ~1 s (%s)', async (format) => {
  const symbol = `TH.${format}`;
  const client = await ts.stream(`format=${format}`);
  subscribe(client, format, { op: 'subscribe', symbols: [symbol], throttle: 200 });
  expect((await client.nextOp('subscribed')).symbols).toEqual([symbol]);
  await client.nextOp('snapshot');
  const droppedBefore = ts.server.connections.updatesDropped;

  const feed = await ts.feed();
  for (let i = 0; i < UPDATES; i++) {
    feed.sendPack({ s: symbol, p: i });
    await sleep(20);
  }
  await waitFor(
    () => bySymbol(receivedUpdates(client)).get(symbol)?.at(-1) === UPDATES,
    'the latest update',
  );
  // Nothing more once the latest was sent.
  const received = client.history.length;
  await sleep(450);
  expect(client.history.length).toBe(received);

  const ns = bySymbol(receivedUpdates(client)).get(symbol)!;
  // About 1.0-1.3 s of updates at most once per 200 ms: 5-7, with slack.
  expect(ns.length).toBeGreaterThanOrEqual(1);
  expect(ns.length).toBeLessThanOrEqual(9);
  expect(ns.at(-1)).toBe(UPDATES);
  const gaps = gapsOf(ns); // throws if out of order or duplicated
  expect(gaps).toBe(UPDATES - ns.length);
  expect(ts.server.connections.updatesDropped - droppedBefore).toBe(gaps);
});

function subscribe(client: TestClient, format: string, msg: unknown): void {
  if (format === 'json') client.sendText(msg);
  else client.sendPack(msg);
}
