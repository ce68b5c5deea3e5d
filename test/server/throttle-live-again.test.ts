/**
 * A symbol subscribed again with another throttle takes the latest one;
 * throttle 0 (or none) makes it live again: after the new snapshot, every
 * update arrives, gap-free and in order.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { bySymbol, receivedUpdates } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

test('resubscribing with throttle 0 returns to live delivery', async () => {
  const client = await ts.stream('format=json');
  const feed = await ts.feed();
  client.sendText({ op: 'subscribe', symbols: ['TL.A', 'TL.B'], throttle: 1000 });
  await client.nextOp('snapshot');
  for (let i = 0; i < 20; i++)
    feed.sendPack([
      { s: 'TL.A', p: i },
      { s: 'TL.B', p: i },
    ]);
  await waitFor(() => ts.server.pipeline.counters.ticksPublished === 40, 'the first ticks');
  // Throttled at 1000 ms: far fewer than 20 updates of TL.A so far.
  expect((bySymbol(receivedUpdates(client)).get('TL.A') ?? []).length).toBeLessThanOrEqual(2);

  client.sendText({ op: 'subscribe', symbols: ['TL.A'], throttle: 0 });
  const snapshot = await client.nextOp('snapshot');
  expect(snapshot.ticks).toEqual([expect.objectContaining({ s: 'TL.A', n: 20 })]);
  const before = receivedUpdates(client).length;
  for (let i = 0; i < 30; i++) {
    feed.sendPack({ s: 'TL.A', p: 100 + i });
    if (i % 10 === 9) await sleep(5);
  }
  const live = (await client.updatesAtLeast(30, 5000)).filter((u) => u.s === 'TL.A');
  expect(live.map((u) => u.n)).toEqual(Array.from({ length: 30 }, (_, i) => 21 + i));
  expect(before).toBeLessThanOrEqual(2);
  // TL.B stays throttled.
  expect((bySymbol(receivedUpdates(client)).get('TL.B') ?? []).length).toBeLessThanOrEqual(3);
});
