/**
 * `throttle` on "*": every symbol is delivered at most once per MS, the
 * latest update, and new symbols are included.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { bySymbol, gapsOf, receivedUpdates } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

test('throttle 200 on "*" bounds each symbol, ending with its latest update', async () => {
  const SYMBOLS = ['TW.0', 'TW.1', 'TW.2'];
  const feed = await ts.feed();
  // TW.0 exists before the subscribe (it is in the snapshot), the others appear after it.
  feed.sendPack({ s: 'TW.0', p: 0 });
  await waitFor(() => ts.server.pipeline.counters.ticksPublished === 1, 'the first tick');
  const client = await ts.stream();
  client.sendPack({ op: 'subscribe', symbols: ['*'], throttle: 200 });
  await client.nextOp('subscribed');
  const snapshot = await client.nextOp('snapshot');
  expect(snapshot.ticks).toEqual([expect.objectContaining({ s: 'TW.0', n: 1 })]);

  for (let i = 0; i < 50; i++) {
    feed.sendPack(SYMBOLS.map((s, k) => ({ s, p: i * 10 + k })));
    await sleep(20);
  }
  const last = (s: string) => bySymbol(receivedUpdates(client)).get(s)?.at(-1);
  await waitFor(
    () => last('TW.0') === 51 && last('TW.1') === 50 && last('TW.2') === 50,
    'the latest updates',
  );
  // Nothing more once the latest was sent.
  const received = client.history.length;
  await sleep(450);
  expect(client.history.length).toBe(received);

  const seen = bySymbol(receivedUpdates(client));
  expect([...seen.keys()].sort()).toEqual(SYMBOLS);
  for (const s of SYMBOLS) {
    const ns = seen.get(s)!;
    expect(ns.length).toBeGreaterThanOrEqual(1);
    expect(ns.length).toBeLessThanOrEqual(9);
    gapsOf(ns, s === 'TW.0' ? 1 : 0); // throws if out of order or duplicated
  }
});
