/**
 * Size limits: a /feed frame over maxFeedFrame and a /stream frame over
 * maxStreamFrame close the connection with 1009 and a reason starting
 * "payload_too_large"; a full symbol table makes a new symbol's tick bad_tick.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pack } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const MAX_FEED_FRAME = 4096;
const MAX_STREAM_FRAME = 1024;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({
    maxFeedFrame: MAX_FEED_FRAME,
    maxStreamFrame: MAX_STREAM_FRAME,
    maxSymbols: 2,
  });
});

afterAll(async () => {
  await ts.stop();
});

/** A valid batch of ticks for `symbol` that packs to exactly `size` bytes. */
function batchOfSize(symbol: string, size: number): Buffer {
  const ticks: { s: string; p: number; x: string }[] = [];
  while (pack(ticks).length < size - 300)
    ticks.push({ s: symbol, p: ticks.length, x: 'x'.repeat(200) });
  // Grow the last string one byte at a time (str8 keeps a 2-byte header up to 255).
  ticks.push({ s: symbol, p: ticks.length, x: 'y'.repeat(32) });
  const last = ticks[ticks.length - 1]!;
  while (pack(ticks).length < size) last.x += 'y';
  const bytes = pack(ticks);
  if (bytes.length !== size)
    throw new Error(`could not build a ${size}-byte frame (${bytes.length})`);
  return bytes;
}

describe('/feed frame size', () => {
  test('a frame of exactly maxFeedFrame bytes is accepted', async () => {
    const sub = await ts.stream('symbols=LM.A');
    await sub.nextOp('snapshot');
    const feed = await ts.feed('ack=1');
    const frame = batchOfSize('LM.A', MAX_FEED_FRAME);
    feed.sendBytes(frame);
    const ack = await feed.nextOp('ack');
    expect(ack).toMatchObject({ frame: 1, rejected: 0 });
    expect(ack.accepted).toBeGreaterThan(1);
    expect(await sub.updates(ack.accepted)).toHaveLength(ack.accepted);
    await Promise.all([sub.close(), feed.close()]);
  });

  test('one byte over: closed with 1009 "payload_too_large…", nothing published', async () => {
    const sub = await ts.stream('symbols=LM.A');
    await sub.nextOp('snapshot');
    const before = await ts.stats();
    const feed = await ts.feed('ack=1');
    feed.sendBytes(batchOfSize('LM.A', MAX_FEED_FRAME + 1));
    const close = await feed.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
    await sub.expectNone(150);
    const after = await ts.stats();
    expect(after.ticks.published).toBe(before.ticks.published);
    expect(after.ticks.received).toBe(before.ticks.received);
    await sub.close();
  });

  test('a frame well over the limit (2x): 1009 too; other feeds carry on', async () => {
    const sub = await ts.stream('symbols=LM.A');
    await sub.nextOp('snapshot');
    const other = await ts.feed('ack=1');
    const feed = await ts.feed();
    feed.sendBytes(
      Buffer.concat([batchOfSize('LM.A', MAX_FEED_FRAME), batchOfSize('LM.A', MAX_FEED_FRAME)]),
    );
    const close = await feed.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
    other.sendPack({ s: 'LM.A', p: 1 });
    expect(await other.nextOp('ack')).toMatchObject({ accepted: 1 });
    expect(await sub.updates(1)).toHaveLength(1);
    // A new feed connects fine.
    const again = await ts.feed('ack=1');
    again.sendPack({ s: 'LM.A', p: 2 });
    expect(await again.nextOp('ack')).toMatchObject({ frame: 1, accepted: 1 });
  });

  test('far over the limit (past 4x) but under 16 MiB (uWS cap on /feed): 1009, not a cut', async () => {
    const feed = await ts.feed();
    feed.sendBytes(Buffer.alloc(8 * MAX_FEED_FRAME, 0x90));
    const close = await feed.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
  });

  test('a text frame over the limit closes with 1009 as well', async () => {
    const feed = await ts.feed();
    feed.sendText('x'.repeat(MAX_FEED_FRAME + 100));
    const close = await feed.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
  });
});

describe('/stream frame size', () => {
  /** A JSON ping padded to exactly `size` bytes. */
  function pingOfSize(size: number): string {
    const base = JSON.stringify({ op: 'ping', id: '' });
    return JSON.stringify({ op: 'ping', id: 'p'.repeat(size - base.length) });
  }

  test('a control message of exactly maxStreamFrame bytes is accepted', async () => {
    const sub = await ts.stream();
    const text = pingOfSize(MAX_STREAM_FRAME);
    expect(Buffer.byteLength(text)).toBe(MAX_STREAM_FRAME);
    sub.sendText(text);
    expect(await sub.nextData()).toMatchObject({ op: 'pong' });
  });

  test('one byte over (text): closed with 1009 "payload_too_large…"', async () => {
    const sub = await ts.stream('symbols=LM.A');
    await sub.nextOp('snapshot');
    sub.sendText(pingOfSize(MAX_STREAM_FRAME + 1));
    const close = await sub.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
  });

  test('at uWS cap on /stream (4x the limit): 1009, not a cut', async () => {
    // Past the cap uWS cuts the socket without a close frame (stream-fragment-cap.test.ts).
    const sub = await ts.stream();
    sub.sendText(pingOfSize(4 * MAX_STREAM_FRAME));
    const close = await sub.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
  });

  test('over the limit (MessagePack subscribe with many symbols): 1009 too', async () => {
    const sub = await ts.stream();
    const symbols = Array.from({ length: 200 }, (_, i) => `LM.SYM${i}`);
    const bytes = pack({ op: 'subscribe', symbols });
    expect(bytes.length).toBeGreaterThan(MAX_STREAM_FRAME);
    expect(bytes.length).toBeLessThan(2 * MAX_STREAM_FRAME);
    sub.sendBytes(bytes);
    const close = await sub.waitClose();
    expect(close.code).toBe(1009);
    expect(close.reason.startsWith('payload_too_large')).toBe(true);
    // Nobody else noticed.
    const other = await ts.stream();
    other.sendPack({ op: 'ping', id: 1 });
    expect(await other.nextData()).toMatchObject({ op: 'pong', id: 1 });
  });
});

describe('symbol table (maxSymbols = 2)', () => {
  test('a third distinct symbol is bad_tick; known symbols keep working', async () => {
    const sub = await ts.stream('symbols=*');
    await sub.nextOp('snapshot');
    const feed = await ts.feed('ack=1');
    // LM.A is known from the tests above; LM.B fills the table.
    feed.sendPack([
      { s: 'LM.B', p: 1 },
      { s: 'LM.C', p: 1 },
      { s: 'LM.A', p: 1 },
      { s: 'LM.D', p: 1 },
    ]);
    expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'bad_tick', indices: [1, 3] });
    expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 2, rejected: 2 });
    const ups = await sub.updates(2);
    expect(ups.map((u) => u.s)).toEqual(['LM.B', 'LM.A']);
    feed.sendPack({ s: 'LM.C', p: 2 });
    expect(await feed.nextData()).toMatchObject({ code: 'bad_tick', indices: [0] });
    expect(await feed.nextData()).toEqual({ op: 'ack', frame: 2, accepted: 0, rejected: 1 });
    feed.sendPack({ s: 'LM.B', p: 2 });
    expect(await feed.nextData()).toEqual({ op: 'ack', frame: 3, accepted: 1, rejected: 0 });
    expect(await sub.update()).toMatchObject({ s: 'LM.B', n: 2 });
    expect((await ts.stats()).symbols).toBe(2);
  });
});
