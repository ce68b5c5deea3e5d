/**
 * Conflation is per subscriber: while one subscriber that stopped reading
 * is conflated, the subscribers next to it that keep reading receive every
 * update, in order, without a gap (counted exactly).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Update, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
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

const SYMBOLS = ['FN.0', 'FN.1', 'FN.2', 'FN.3'];

/** Every symbol's n goes 1, 2, 3, … up to `perSymbol`. */
function expectGapFree(updates: readonly Update[], symbols: readonly string[], perSymbol: number) {
  const last = new Map<string, number>();
  for (const u of updates) {
    expect(u.n).toBe((last.get(u.s) ?? 0) + 1);
    last.set(u.s, u.n);
  }
  for (const s of symbols) expect(last.get(s)).toBe(perSymbol);
}

test('readers next to a conflated subscriber get every update in order', async () => {
  const slow = await ts.stream('symbols=*');
  const fast = await ts.stream('symbols=*');
  const fastJson = await ts.stream('symbols=FN.1&format=json');
  for (const c of [slow, fast, fastJson]) await c.nextOp('snapshot');
  tcpOf(slow).pause();

  const feed = await ts.feed();
  const flood = { perSymbol: 0 };
  const counts = ts.server.connections;
  await floodUntil(feed, SYMBOLS, () => counts.conflatingNow === 1, flood, { extraFrames: 50 });

  expectGapFree(
    await fast.updates(flood.perSymbol * SYMBOLS.length, 30_000),
    SYMBOLS,
    flood.perSymbol,
  );
  expectGapFree(await fastJson.updates(flood.perSymbol, 30_000), ['FN.1'], flood.perSymbol);
  await fast.expectNone(200);
  // Only the paused one was conflated.
  expect(counts.slowConsumersConflated).toBe(1);
  const stats = await ts.stats();
  expect(stats.slow_consumers.conflating_now).toBe(1);
  expect(stats.slow_consumers.closed).toBe(0);
  tcpOf(slow).resume();
  await waitFor(() => counts.conflatingNow === 0, 'the slow one to catch up', 30_000);
  expect(slow.isOpen && fast.isOpen && fastJson.isOpen).toBe(true);
});
