/**
 * Slow consumers: a subscriber that stops reading while a feed publishes a
 * lot is closed with 1008 and a reason starting "slow_consumer" once its
 * queue passes maxBackpressure; a subscriber that keeps reading gets every
 * update, in order.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Msg, sleep } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const MAX_BACKPRESSURE = 16 * 1024;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxBackpressure: MAX_BACKPRESSURE });
});

afterAll(async () => {
  await ts.stop();
});

/** The TCP socket under a `ws` client (not part of its typed API). */
function tcpOf(ws: unknown): Socket {
  return (ws as { _socket: Socket })._socket;
}

test('a paused subscriber is closed 1008 slow_consumer; a reading one misses nothing', async () => {
  const slow = await ts.stream('symbols=*');
  const slowNamed = await ts.stream('symbols=SC.0,SC.1&format=json');
  const good = await ts.stream('symbols=*');
  const goodNamed = await ts.stream('symbols=SC.0&format=json');
  for (const c of [slow, slowNamed, good, goodNamed]) await c.nextOp('snapshot');
  tcpOf(slow.ws).pause();
  tcpOf(slowNamed.ws).pause();

  const feed = await ts.feed();
  const SYMBOLS = ['SC.0', 'SC.1', 'SC.2', 'SC.3'];
  const note = 'z'.repeat(100);
  let sent = 0;
  let sentSC0 = 0;
  // Publish until both paused subscribers have been closed (bounded: the
  // kernel buffers a few MB before the server has to queue anything).
  for (let frame = 0; ts.server.connections.slowConsumersClosed < 2; frame++) {
    if (sent > 2_000_000) throw new Error(`no slow_consumer close after ${sent} ticks`);
    const batch = Array.from({ length: 200 }, (_, i) => ({ s: SYMBOLS[i % 4]!, p: frame, note }));
    feed.sendPack(batch);
    sent += batch.length;
    sentSC0 += 50;
    // Give the server (same process) a turn now and then.
    if (frame % 4 === 3) await sleep(1);
  }
  const stats = await ts.stats();
  expect(stats.slow_consumers_closed).toBe(2);
  // Their queues are still held, and so are their connection slots.
  expect(stats.connections.subscribers).toBe(4);

  // Let the paused clients read again: what was queued, then the close frame.
  tcpOf(slow.ws).resume();
  tcpOf(slowNamed.ws).resume();
  for (const c of [slow, slowNamed]) {
    const close = await c.waitClose(20_000);
    expect(close.code).toBe(1008);
    expect(close.reason.startsWith('slow_consumer')).toBe(true);
  }
  expect((await ts.stats()).connections.subscribers).toBe(2);

  // The reading subscribers got every update, in order, without gaps.
  const checkInOrder = (ups: Msg[], symbols: string[], perSymbol: number): void => {
    const lastN = new Map<string, number>();
    for (const u of ups) {
      expect(u.n).toBe((lastN.get(u.s) ?? 0) + 1);
      lastN.set(u.s, u.n);
    }
    for (const s of symbols) expect(lastN.get(s)).toBe(perSymbol);
  };
  checkInOrder(await good.updates(sent, 30_000), SYMBOLS, sent / 4);
  checkInOrder(await goodNamed.updates(sentSC0, 30_000), ['SC.0'], sentSC0);
  expect(good.isOpen && goodNamed.isOpen).toBe(true);
  expect(ts.server.connections.slowConsumersClosed).toBe(2);
});
