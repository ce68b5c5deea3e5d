/**
 * A slow consumer's connection slot is held for as long as its queued bytes
 * are. uWS keeps a socket's queue for about 15 s after `end()` (the close
 * frame waits behind it), so closing with 1008 at once freed the slot while
 * the bytes stayed, and a client could do that again and again. Now the
 * subscriber stops receiving at once and is counted as closed; it gets 1008
 * `slow_consumer` once its queue is small (tested in slow-consumer*.test.ts),
 * or, if it reads nothing for stallTimeoutS, its TCP connection is dropped
 * (no close frame: it could not have reached the client), which frees the
 * queue and the slot together.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { floodUntil, tcpOf } from '../helpers/slow.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxBackpressure: 64 * 1024, stallTimeoutS: 1 });
});

afterAll(async () => {
  await ts.stop();
});

test('a slow consumer that never reads: slot held until the socket is dropped, then freed', async () => {
  const slow = await ts.stream('symbols=*');
  const reader = await ts.stream('symbols=CS.0');
  for (const c of [slow, reader]) await c.nextOp('snapshot');
  tcpOf(slow).pause();
  const feed = await ts.feed();
  const counts = ts.server.connections;
  const limits = ts.server.admission.limits;
  const open = limits.total; // feed, reader and the slow one
  await floodUntil(feed, ['CS.0', 'CS.1'], () => counts.slowConsumersClosed === 1, {
    perSymbol: 0,
  });
  // Counted as closed at once, but its bytes are still queued: the slot is still taken.
  expect(counts.slowConsumersClosed).toBe(1);
  expect(limits.total).toBe(open);
  expect(counts.subscribers).toBe(2);
  // It reads nothing: after stallTimeoutS it is dropped, and the slot with it.
  await waitFor(() => limits.total === open - 1, 'the slot to be freed', 10_000);
  expect(counts.subscribers).toBe(1);
  tcpOf(slow).resume();
  const close = await slow.waitClose(10_000);
  expect(close.code).toBe(1006); // no close frame
  expect(reader.isOpen).toBe(true);
  expect((await ts.stats()).slow_consumers.closed).toBe(1);
});
