/**
 * Conflation bounds what updates add to a slow subscriber's queue; the
 * subscribe gate bounds what it asks for. A conflated subscriber that keeps
 * requesting "*" snapshots without reading used to grow its queue past
 * maxBackpressure (one snapshot per request). Now each request is refused
 * with `rate_limited` while its queue is above conflateAt, the queue stays
 * far below the hard limit, and after PERSIST_MS of refusals it is closed
 * with 1008 `rate_limited` (not counted as a slow consumer).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isRecord, sleep } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { floodUntil, tcpOf } from '../helpers/slow.js';

const CONFLATE_AT = 16 * 1024;
const MAX_BACKPRESSURE = 16 * 1024 * 1024;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({
    conflateAt: CONFLATE_AT,
    maxBackpressure: MAX_BACKPRESSURE,
    stallTimeoutS: 3600,
  });
});

afterAll(async () => {
  await ts.stop();
});

test('a conflated subscriber asking for snapshots without reading: refused, then closed 1008 rate_limited', async () => {
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
    { batch: 100, pauseEvery: 1 },
  );
  expect(counts.slowConsumersClosed).toBe(0);
  const socket = [...ts.server.sockets].find((ws) => {
    const d = ws.getUserData();
    return d.kind === 'stream' && d.delivery?.conflating === true;
  })!;
  const data = socket.getUserData();

  // Each snapshot of 400 symbols is about 60 KB: once, the queue grew by one per request.
  let most = 0;
  for (let i = 0; i < 1000 && !data.closed; i++) {
    slow.sendPack({ op: 'subscribe', symbols: ['*'] });
    if (i % 10 === 9) {
      await sleep(100);
      if (!data.closed) most = Math.max(most, socket.getBufferedAmount());
    }
  }
  expect(data.closed).toBe(true);
  expect(most).toBeLessThan(MAX_BACKPRESSURE / 4);
  expect(counts.slowConsumersClosed).toBe(0);

  tcpOf(slow).resume();
  const close = await slow.waitClose(20_000);
  expect(close.code).toBe(1008);
  expect(close.reason.startsWith('rate_limited')).toBe(true);
  const refused = slow.history.filter((m) => isRecord(m.data) && m.data.op === 'error');
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.every((m) => m.data.code === 'rate_limited')).toBe(true);
}, 30_000);
