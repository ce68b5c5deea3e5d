/**
 * Conflation bounds what updates add to a slow subscriber's queue, not what
 * it asks for: a conflated subscriber that keeps requesting snapshots
 * without reading passes maxBackpressure and is closed with 1008 and a
 * reason starting "slow_consumer".
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { floodUntil, tcpOf } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({
    conflateAt: 16 * 1024,
    maxBackpressure: 16 * 1024 * 1024,
    stallTimeoutS: 3600,
  });
});

afterAll(async () => {
  await ts.stop();
});

test('a conflated subscriber past maxBackpressure is closed 1008 slow_consumer', async () => {
  const SYMBOLS = Array.from({ length: 400 }, (_, i) => `HL.${i}`);
  const slow = await ts.stream('symbols=*');
  await slow.nextOp('snapshot');
  tcpOf(slow).pause();

  const feed = await ts.feed();
  const counts = ts.server.connections;
  await floodUntil(
    feed,
    SYMBOLS,
    () => counts.conflatingNow === 1 || counts.slowConsumersClosed > 0,
    { perSymbol: 0 },
    // Gently: a queue that grows past the hard limit between two checks is
    // closed before it could be conflated.
    { batch: 100, pauseEvery: 1 },
  );
  expect(counts.slowConsumersClosed).toBe(0);

  // Each snapshot of 400 symbols is about 60 KB; the queue only grows.
  for (let i = 0; i < 1000 && counts.slowConsumersClosed === 0; i++) {
    slow.sendPack({ op: 'subscribe', symbols: ['*'] });
    if (i % 10 === 9) await sleep(20);
  }
  await waitFor(() => counts.slowConsumersClosed === 1, 'the hard-limit close', 10_000);

  tcpOf(slow).resume();
  const close = await slow.waitClose(20_000);
  expect(close.code).toBe(1008);
  expect(close.reason.startsWith('slow_consumer')).toBe(true);
  expect((await ts.stats()).slow_consumers.closed).toBe(1);
});
