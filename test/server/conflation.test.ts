/**
 * Conflation: a subscriber that stops reading while a feed publishes passes
 * conflateAt and gets conflated delivery instead of being closed. When it
 * reads again it receives what was queued, then the latest update of each
 * symbol (visible n-gaps, counted as dropped), then live updates again,
 * gap-free and in order.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { bySymbol, floodUntil, gapsOf, receivedUpdates, tcpOf } from '../helpers/slow.js';

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

const SYMBOLS = ['CF.0', 'CF.1', 'CF.2', 'CF.3'];

test('a paused subscriber is conflated, catches up with the latest per symbol, then goes live in order', async () => {
  const wildcard = await ts.stream('symbols=*');
  const named = await ts.stream('symbols=CF.0,CF.2&format=json');
  for (const c of [wildcard, named]) await c.nextOp('snapshot');
  tcpOf(wildcard).pause();
  tcpOf(named).pause();

  const feed = await ts.feed();
  const flood = { perSymbol: 0 };
  const counts = ts.server.connections;
  // Until both are conflated, then some more that they can only get conflated.
  await floodUntil(feed, SYMBOLS, () => counts.conflatingNow === 2, flood, { extraFrames: 20 });
  expect(counts.slowConsumersConflated).toBeGreaterThanOrEqual(2);
  expect(wildcard.isOpen && named.isOpen).toBe(true);

  // Reading again: queued updates, then the latest of each symbol.
  tcpOf(wildcard).resume();
  tcpOf(named).resume();
  await waitFor(reached(wildcard, SYMBOLS, flood.perSymbol), 'wildcard caught up', 30_000);
  await waitFor(reached(named, ['CF.0', 'CF.2'], flood.perSymbol), 'named caught up', 30_000);
  await waitFor(() => counts.conflatingNow === 0, 'conflation to end');

  // Live again: every further update, in order, with no gap.
  const before = flood.perSymbol;
  const more = { perSymbol: 0 };
  await floodUntil(feed, SYMBOLS, () => true, more, { extraFrames: 4 });
  const final = before + more.perSymbol;
  await waitFor(reached(wildcard, SYMBOLS, final), 'wildcard live', 30_000);
  await waitFor(reached(named, ['CF.0', 'CF.2'], final), 'named live', 30_000);

  let gaps = 0;
  for (const [c, symbols] of [
    [wildcard, SYMBOLS],
    [named, ['CF.0', 'CF.2']],
  ] as const) {
    const seen = bySymbol(receivedUpdates(c));
    expect([...seen.keys()].sort()).toEqual([...symbols].sort());
    for (const s of symbols) {
      const ns = seen.get(s)!;
      const g = gapsOf(ns); // throws if out of order or duplicated
      expect(g).toBeGreaterThan(0);
      gaps += g;
      // Everything after the catch-up arrived without a gap.
      expect(ns.slice(ns.indexOf(before))).toEqual(
        Array.from({ length: final - before + 1 }, (_, i) => before + i),
      );
    }
  }
  expect(counts.updatesDropped).toBe(gaps);
  const stats = await ts.stats();
  expect(stats.slow_consumers.dropped).toBe(gaps);
  expect(stats.slow_consumers.conflated).toBe(counts.slowConsumersConflated);
  expect(stats.slow_consumers.conflating_now).toBe(0);
  expect(stats.slow_consumers.closed).toBe(0);
  expect(stats.slow_consumers_closed).toBe(0);
  expect(wildcard.isOpen && named.isOpen).toBe(true);
});

/** Whether `c` has received update `n` of every symbol of `symbols`. */
function reached(c: TestClient, symbols: readonly string[], n: number): () => boolean {
  return () => {
    const seen = bySymbol(receivedUpdates(c));
    return symbols.every((s) => seen.get(s)?.at(-1) === n);
  };
}
