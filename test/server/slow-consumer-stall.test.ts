/**
 * A conflated subscriber that drains nothing for stallTimeoutS is closed
 * with 1008 and a reason starting "slow_consumer", and counted.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { floodUntil, tcpOf } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({
    conflateAt: 64 * 1024,
    maxBackpressure: 256 * 1024 * 1024,
    stallTimeoutS: 1,
  });
});

afterAll(async () => {
  await ts.stop();
});

test('a conflated subscriber that stalls past stallTimeoutS is closed 1008 slow_consumer', async () => {
  const slow = await ts.stream('symbols=ST.0,ST.1');
  const reader = await ts.stream('symbols=ST.0');
  for (const c of [slow, reader]) await c.nextOp('snapshot');
  tcpOf(slow).pause();

  const feed = await ts.feed();
  const counts = ts.server.connections;
  await floodUntil(feed, ['ST.0', 'ST.1'], () => counts.conflatingNow === 1, { perSymbol: 0 });
  // Publishing stops; the paused subscriber drains nothing from now on.
  await waitFor(() => counts.slowConsumersClosed === 1, 'the stall close', 10_000);
  expect(counts.conflatingNow).toBe(0);

  tcpOf(slow).resume();
  const close = await slow.waitClose(20_000);
  expect(close.code).toBe(1008);
  expect(close.reason.startsWith('slow_consumer')).toBe(true);
  expect(reader.isOpen).toBe(true);
  const stats = await ts.stats();
  expect(stats.slow_consumers_closed).toBe(1);
  expect(stats.slow_consumers.closed).toBe(1);
  expect(stats.connections.subscribers).toBe(1);
});
