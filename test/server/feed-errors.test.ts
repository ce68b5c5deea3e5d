/**
 * Feed error replies. bad_tick lists the (first 16) indices of the invalid
 * ticks while the frame's valid ticks are still published; bad_frame answers
 * a frame that is not MessagePack, not a map or array, structurally broken,
 * or a text frame, and publishes nothing from it. The connection stays open
 * and other clients are unaffected.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, pack } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

async function subscriber(symbols: string): Promise<TestClient> {
  const sub = await ts.stream(`symbols=${symbols}`);
  await sub.nextOp('snapshot');
  return sub;
}

/** After an error the feed still works: a valid tick is published. */
async function expectFeedStillWorks(
  feed: TestClient,
  sub: TestClient,
  symbol: string,
): Promise<void> {
  expect(feed.isOpen).toBe(true);
  feed.sendPack({ s: symbol, p: 42 });
  const u = await sub.update();
  expect(u).toMatchObject({ s: symbol, p: 42 });
  await feed.expectNone(100);
}

describe('bad_tick', () => {
  test('a single invalid tick: indices [0], nothing published', async () => {
    const sub = await subscriber('FE.ONE');
    const feed = await ts.feed();
    feed.sendPack({ s: 'FE.ONE' }); // no price
    const err = await feed.nextData();
    expect(err).toEqual({
      op: 'error',
      code: 'bad_tick',
      indices: [0],
      message: err.message,
      frame: 1,
    });
    expect(typeof err.message).toBe('string');
    await sub.expectNone(150);
    await expectFeedStillWorks(feed, sub, 'FE.ONE');
  });

  test('valid ticks of the same frame are still published, invalid indices reported', async () => {
    const sub = await subscriber('FE.MIX');
    const feed = await ts.feed();
    feed.sendPack([
      { s: 'FE.MIX', p: 1 },
      { s: 'FE.MIX', p: 'x' }, // ill-typed price
      { s: 'FE.MIX', p: 2 },
      { s: 'bad symbol!', p: 3 }, // symbol outside the alphabet
      { s: 'FE.MIX', p: 4, n: 7 }, // server's own key
      42, // not a map
      { s: 'FE.MIX', p: 5 },
    ]);
    expect(await feed.nextData()).toMatchObject({
      op: 'error',
      code: 'bad_tick',
      indices: [1, 3, 4, 5],
    });
    const ups = await sub.updates(3);
    expect(ups.map((u) => [u.p, u.n])).toEqual([
      [1, 1],
      [2, 2],
      [5, 3],
    ]);
    await sub.expectNone(100);
  });

  test('more than 16 invalid ticks: the first 16 indices only', async () => {
    const sub = await subscriber('FE.MANY');
    const feed = await ts.feed('ack=1');
    // 40 ticks, the odd ones invalid (20 invalid, 20 valid).
    const ticks = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 1 ? { s: 'FE.MANY', p: i, q: -1 } : { s: 'FE.MANY', p: i },
    );
    feed.sendPack(ticks);
    const err = await feed.nextData();
    expect(err.code).toBe('bad_tick');
    expect(err.indices).toEqual(Array.from({ length: 16 }, (_, k) => 2 * k + 1));
    expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 20, rejected: 20 });
    const ups = await sub.updates(20);
    expect(ups.map((u) => u.p)).toEqual(Array.from({ length: 20 }, (_, k) => 2 * k));
  });

  test.each([
    ['nested map value', { s: 'FE.INV', p: 1, x: { y: 1 } }],
    ['array value', { s: 'FE.INV', p: 1, x: [1] }],
    ['key __proto__', JSON.parse('{"s":"FE.INV","p":1,"__proto__":1}')],
    ['key constructor', { s: 'FE.INV', p: 1, constructor: 1 }],
    ['key prototype', { s: 'FE.INV', p: 1, prototype: 1 }],
    ['key r', { s: 'FE.INV', p: 1, r: 1 }],
    ['negative size', { s: 'FE.INV', p: 1, q: -0.5 }],
    ['fractional t', { s: 'FE.INV', p: 1, t: 1.5 }],
    ['negative t', { s: 'FE.INV', p: 1, t: -1 }],
    ['string bid', { s: 'FE.INV', p: 1, b: '1' }],
    ['infinite price', { s: 'FE.INV', p: Infinity }],
    ['NaN price', { s: 'FE.INV', p: NaN }],
    ['empty symbol', { s: '', p: 1 }],
    ['33-byte symbol', { s: 'S'.repeat(33), p: 1 }],
    ['numeric symbol', { s: 7, p: 1 }],
    ['257-byte string value', { s: 'FE.INV', p: 1, note: 'x'.repeat(257) }],
  ])('%s is a bad_tick', async (_name, tick) => {
    const feed = await ts.feed();
    feed.sendPack(tick);
    expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'bad_tick', indices: [0] });
    await feed.close();
  });

  test('duplicate keys and extension-type values are bad_tick', async () => {
    const feed = await ts.feed();
    const s = pack('s');
    const sym = pack('FE.INV');
    const p = pack('p');
    const one = pack(1);
    // {s, p, p}: duplicate key.
    feed.sendBytes(Buffer.concat([Buffer.from([0x83]), s, sym, p, one, p, one]));
    expect(await feed.nextData()).toMatchObject({ code: 'bad_tick', indices: [0] });
    // {s, p, x: fixext1}: extension type as a value.
    feed.sendBytes(
      Buffer.concat([
        Buffer.from([0x83]),
        s,
        sym,
        p,
        one,
        pack('x'),
        Buffer.from([0xd4, 0x01, 0x00]),
      ]),
    );
    expect(await feed.nextData()).toMatchObject({ code: 'bad_tick', indices: [0] });
    // {s, p, x: bin8}: binary data as a value.
    feed.sendBytes(
      Buffer.concat([
        Buffer.from([0x83]),
        s,
        sym,
        p,
        one,
        pack('x'),
        Buffer.from([0xc4, 0x01, 0x00]),
      ]),
    );
    expect(await feed.nextData()).toMatchObject({ code: 'bad_tick', indices: [0] });
  });
});

describe('bad_frame', () => {
  const valid = pack([
    { s: 'FE.BF', p: 1 },
    { s: 'FE.BF', p: 2 },
  ]);
  const frames: [string, Uint8Array][] = [
    ['not MessagePack (0xc1)', Buffer.from([0xc1])],
    ['random bytes', Buffer.from('this is not messagepack at all', 'utf8').subarray(0, 12)],
    ['a scalar number', pack(42)],
    ['a scalar string', pack('AAPL')],
    ['nil', pack(null)],
    ['a top-level extension type', Buffer.from([0xd4, 0x01, 0x00])],
    ['a truncated batch', valid.subarray(0, valid.length - 3)],
    ['a truncated map', pack({ s: 'FE.BF', p: 1 }).subarray(0, 6)],
    ['a declared length past the end', Buffer.from([0xdd, 0x00, 0x00, 0xff, 0xff])],
    [
      'trailing bytes after the value',
      Buffer.concat([pack({ s: 'FE.BF', p: 1 }), Buffer.from([0xc0])]),
    ],
    ['an empty frame', Buffer.alloc(0)],
  ];

  test.each(frames)('%s: bad_frame, nothing published, connection open', async (_name, bytes) => {
    const sub = await subscriber('FE.BF');
    const feed = await ts.feed();
    feed.sendBytes(bytes);
    const err = await feed.nextData();
    expect(err).toEqual({ op: 'error', code: 'bad_frame', message: err.message, frame: 1 });
    expect(typeof err.message).toBe('string');
    await sub.expectNone(100);
    await expectFeedStillWorks(feed, sub, 'FE.BF');
    await Promise.all([sub.close(), feed.close()]);
  });

  test('a truncated batch publishes nothing, not even the ticks before the fault', async () => {
    const sub = await subscriber('FE.TRUNC');
    const feed = await ts.feed();
    const whole = pack([
      { s: 'FE.TRUNC', p: 1 },
      { s: 'FE.TRUNC', p: 2 },
      { s: 'FE.TRUNC', p: 3 },
    ]);
    feed.sendBytes(whole.subarray(0, whole.length - 2));
    expect(await feed.nextData()).toMatchObject({ code: 'bad_frame' });
    await sub.expectNone(150);
    // The sequence did not advance: the next published tick is n=1.
    feed.sendBytes(whole);
    const ups = await sub.updates(3);
    expect(ups.map((u) => u.n)).toEqual([1, 2, 3]);
  });

  test('text frames are answered with bad_frame, even when they hold a valid-looking tick', async () => {
    const sub = await subscriber('FE.TEXT');
    const feed = await ts.feed();
    feed.sendText({ s: 'FE.TEXT', p: 1 });
    const err = await feed.next();
    expect(err.binary).toBe(true);
    expect(err.data).toMatchObject({ op: 'error', code: 'bad_frame' });
    await sub.expectNone(150);
    await expectFeedStillWorks(feed, sub, 'FE.TEXT');
  });
});

test('errors on one feed leave other feeds and subscribers unaffected', async () => {
  const sub = await subscriber('FE.OTHER');
  const bystander = await subscriber('FE.OTHER');
  const good = await ts.feed();
  const bad = await ts.feed();
  for (let i = 0; i < 10; i++) {
    bad.sendBytes(Buffer.from([0xc1]));
    bad.sendPack({ s: 'FE.OTHER', p: 'nope' });
    bad.sendText('garbage');
    good.sendPack({ s: 'FE.OTHER', p: i });
  }
  for (const c of [sub, bystander]) {
    const ups = await c.updates(10);
    expect(ups.map((u) => [u.p, u.n])).toEqual(Array.from({ length: 10 }, (_, i) => [i, i + 1]));
  }
  const codes: string[] = [];
  for (let i = 0; i < 30; i++) codes.push((await bad.nextData()).code);
  expect(codes.filter((c) => c === 'bad_frame')).toHaveLength(20);
  expect(codes.filter((c) => c === 'bad_tick')).toHaveLength(10);
  await good.expectNone(100);
  expect([sub, bystander, good, bad].every((c) => c.isOpen)).toBe(true);
});
