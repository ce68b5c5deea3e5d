/**
 * /stats and /metrics report slow consumers: how many are conflated now
 * (and which, with their queued bytes), how many times one was conflated,
 * the updates dropped by conflation, the slow_consumer closes.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';
import { floodUntil, tcpOf } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({
    conflateAt: 64 * 1024,
    maxBackpressure: 256 * 1024 * 1024,
    stallTimeoutS: 3600,
  });
});

afterAll(async () => {
  await ts.stop();
});

async function metric(name: string): Promise<number | undefined> {
  const res = await httpGet(ts.httpUrl('/metrics'));
  expect(res.status).toBe(200);
  for (const line of res.body.split('\n')) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  }
  return undefined;
}

test('/stats and /metrics show conflating subscribers and the counters', async () => {
  let stats = await ts.stats();
  expect(stats.slow_consumers).toEqual({
    conflating_now: 0,
    conflated: 0,
    dropped: 0,
    closed: 0,
    connections: [],
  });
  expect(await metric('tickwire_slow_consumers_conflating')).toBe(0);
  expect(await metric('tickwire_slow_consumers_conflated_total')).toBe(0);
  expect(await metric('tickwire_updates_dropped_total')).toBe(0);

  const slow = await ts.stream('symbols=*');
  await slow.nextOp('snapshot');
  tcpOf(slow).pause();
  const feed = await ts.feed();
  const counts = ts.server.connections;
  await floodUntil(
    feed,
    ['SS.0', 'SS.1'],
    () => counts.conflatingNow === 1,
    { perSymbol: 0 },
    {
      extraFrames: 10,
    },
  );

  stats = await ts.stats();
  expect(stats.slow_consumers.conflating_now).toBe(1);
  expect(stats.slow_consumers.conflated).toBe(1);
  expect(stats.slow_consumers.closed).toBe(0);
  expect(stats.slow_consumers.connections).toHaveLength(1);
  const listed = stats.slow_consumers.connections[0]!;
  expect(listed.queued_bytes).toBeGreaterThan(32 * 1024);
  expect(listed.ip).toContain('127.0.0.1');
  expect(listed.since_s).toBeGreaterThanOrEqual(0);
  expect(typeof listed.id).toBe('number');
  expect(await metric('tickwire_slow_consumers_conflating')).toBe(1);
  expect(await metric('tickwire_slow_consumers_conflated_total')).toBe(1);

  tcpOf(slow).resume();
  await waitFor(() => counts.conflatingNow === 0, 'the catch-up', 30_000);
  stats = await ts.stats();
  expect(stats.slow_consumers.conflating_now).toBe(0);
  expect(stats.slow_consumers.connections).toEqual([]);
  expect(stats.slow_consumers.dropped).toBeGreaterThan(0);
  expect(await metric('tickwire_updates_dropped_total')).toBe(stats.slow_consumers.dropped);
  expect(await metric('tickwire_slow_consumers_conflating')).toBe(0);
  expect(await metric('tickwire_slow_consumers_closed_total')).toBe(0);
});
