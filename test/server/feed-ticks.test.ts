/**
 * Valid ticks are published as updates: the tick exactly as the feed sent it
 * (extra scalar keys included) with `n` (per-symbol sequence, 1, 2, 3, … with
 * no gaps across frames and feeds) and `r` (integer µs receive time) appended.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Msg, pack } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let testStartUs: number;

beforeAll(async () => {
  testStartUs = Date.now() * 1000;
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

/** Sanity bounds for a µs timestamp taken during this test run. */
function expectPlausibleUs(v: unknown): void {
  expect(Number.isInteger(v)).toBe(true);
  expect(v as number).toBeGreaterThanOrEqual(testStartUs - 60_000_000);
  expect(v as number).toBeLessThanOrEqual(Date.now() * 1000 + 60_000_000);
}

/** Bytes of a map's header (fixmap, map16 or map32). */
function mapHeaderLength(first: number): number {
  if ((first & 0xf0) === 0x80) return 1;
  if (first === 0xde) return 3;
  if (first === 0xdf) return 5;
  throw new Error(`not a map header: 0x${first.toString(16)}`);
}

describe('one tick', () => {
  test('published with n=1 and an integer µs r appended, otherwise unchanged', async () => {
    const sub = await ts.stream('symbols=FT.ONE');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    const tick = { s: 'FT.ONE', p: 189.5, q: 0.25, b: 189.25, a: 189.75, t: 1_700_000_000_000_000 };
    feed.sendPack(tick);
    const u = await sub.update();
    expect(u).toEqual({ ...tick, n: 1, r: u.r });
    expect(Object.keys(u)).toEqual([...Object.keys(tick), 'n', 'r']);
    expectPlausibleUs(u.r);
    // The feed gets no reply for a fully valid frame without ?ack=1.
    await feed.expectNone(150);
  });

  test('only s and p are required', async () => {
    const sub = await ts.stream('symbols=FT.MIN');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    feed.sendPack({ p: -3, s: 'FT.MIN' });
    const u = await sub.update();
    expect(u).toEqual({ p: -3, s: 'FT.MIN', n: 1, r: u.r });
    expect(Object.keys(u)).toEqual(['p', 's', 'n', 'r']);
  });

  test('extra scalar keys are forwarded untouched, in order', async () => {
    const sub = await ts.stream('symbols=FT.EXTRA');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    const tick = {
      s: 'FT.EXTRA',
      p: 10,
      venue: 'XNAS',
      side: null,
      maker: true,
      taker: false,
      id: 123456789,
      neg: -42,
      ratio: 0.125,
      note: 'é'.repeat(128), // 256 bytes of UTF-8: the longest string allowed
      empty: '',
    };
    feed.sendPack(tick);
    const u = await sub.update();
    expect(u).toEqual({ ...tick, n: 1, r: u.r });
    expect(Object.keys(u)).toEqual([...Object.keys(tick), 'n', 'r']);
  });

  test('on the wire: the feed map body byte for byte, then n (uint32) and r (uint64)', async () => {
    const sub = await ts.stream('symbols=FT.BYTES');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    const sent = pack({ s: 'FT.BYTES', p: 189.5, x: 'keep me' });
    const sentBody = sent.subarray(mapHeaderLength(sent[0]!));
    feed.sendBytes(sent);
    const m = await sub.next();
    expect(m.binary).toBe(true);
    const raw = m.raw;
    expect(raw[0]).toBe(0x80 | 5); // 3 keys + n + r
    expect(Buffer.compare(raw.subarray(1, 1 + sentBody.length), sentBody)).toBe(0);
    const tail = raw.subarray(1 + sentBody.length);
    expect([...tail.subarray(0, 7)]).toEqual([0xa1, 0x6e, 0xce, 0, 0, 0, 1]); // "n": uint32 1
    expect([...tail.subarray(7, 10)]).toEqual([0xa1, 0x72, 0xcf]); // "r": uint64
    expect(tail.length).toBe(18);
    expect(Number(tail.readBigUInt64BE(10))).toBe(m.data.r);
    expectPlausibleUs(m.data.r);
  });

  test('fixmap and map16 headers from the feed are both accepted, bodies forwarded', async () => {
    const sub = await ts.stream('symbols=FT.M16');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    const plain = pack({ s: 'FT.M16', p: 2 });
    const body = plain.subarray(mapHeaderLength(plain[0]!));
    // One at a time: two updates of a symbol in one turn would share a frame.
    for (const [n, header] of [
      [1, [0xde, 0x00, 0x02]],
      [2, [0x82]],
    ] as const) {
      feed.sendBytes(Buffer.concat([Buffer.from(header), body]));
      const m = await sub.next();
      expect(m.data).toEqual({ s: 'FT.M16', p: 2, n, r: m.data.r });
      expect(m.raw[0]).toBe(0x84);
      expect(Buffer.compare(m.raw.subarray(1, 1 + body.length), body)).toBe(0);
    }
  });
});

describe('symbols', () => {
  test('every allowed character and the 1- and 32-byte lengths are accepted', async () => {
    const symbols = ['Az09._:/-', 'x', 'S'.repeat(31) + '9', 'btc-usd/PERP:binance_1.0'];
    const sub = await ts.stream(`symbols=${symbols.map(encodeURIComponent).join(',')}`);
    expect(await sub.nextData()).toEqual({ op: 'subscribed', symbols, epoch: expect.any(String) });
    await sub.nextOp('snapshot');
    const feed = await ts.feed('ack=1');
    feed.sendPack(symbols.map((s, i) => ({ s, p: i })));
    expect(await feed.nextOp('ack')).toMatchObject({ accepted: symbols.length, rejected: 0 });
    const ups = await sub.updates(symbols.length);
    expect(ups.map((u) => [u.s, u.p, u.n])).toEqual(symbols.map((s, i) => [s, i, 1]));
  });

  test('symbols are case-sensitive', async () => {
    const sub = await ts.stream('symbols=FT.case');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    feed.sendPack([
      { s: 'FT.CASE', p: 1 },
      { s: 'FT.case', p: 2 },
    ]);
    expect(await sub.update()).toMatchObject({ s: 'FT.case', p: 2, n: 1 });
    await sub.expectNone(100);
  });
});

describe('sequence numbers', () => {
  test('n counts 1, 2, 3, … per symbol across frames, independently per symbol', async () => {
    const sub = await ts.stream('symbols=FT.SEQ.A,FT.SEQ.B');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    const sent: Msg[] = [];
    for (let i = 0; i < 20; i++) {
      const t = { s: i % 3 === 0 ? 'FT.SEQ.B' : 'FT.SEQ.A', p: i };
      sent.push(t);
      feed.sendPack(t);
    }
    const ups = await sub.updates(20);
    // Per symbol, in order (the order across symbols is not promised).
    for (const [s, count] of [
      ['FT.SEQ.A', 13],
      ['FT.SEQ.B', 7],
    ] as const) {
      const want = sent.filter((t) => t.s === s);
      const got = ups.filter((u) => u.s === s);
      expect(got).toHaveLength(count);
      expect(got).toEqual(want.map((t: object, k) => ({ ...t, n: k + 1, r: got[k]!.r })));
    }
  });

  test('gap-free across two feeds, mixed single ticks and batches, and invalid ticks', async () => {
    const sub = await ts.stream('symbols=FT.TWO');
    await sub.nextOp('snapshot');
    const feedA = await ts.feed();
    const feedB = await ts.feed();
    let valid = 0;
    for (let i = 0; i < 30; i++) {
      const feed = i % 2 === 0 ? feedA : feedB;
      if (i % 5 === 0) {
        // A batch with an invalid tick in the middle (no n for it).
        feed.sendPack([
          { s: 'FT.TWO', p: i, src: feed === feedA ? 'A' : 'B' },
          { s: 'FT.TWO', p: 'not a number' },
          { s: 'FT.TWO', p: i + 0.5, src: feed === feedA ? 'A' : 'B' },
        ]);
        valid += 2;
      } else {
        feed.sendPack({ s: 'FT.TWO', p: i, src: feed === feedA ? 'A' : 'B' });
        valid += 1;
      }
    }
    const ups = await sub.updates(valid);
    expect(ups.map((u) => u.n)).toEqual(Array.from({ length: valid }, (_, i) => i + 1));
    expect(new Set(ups.map((u) => u.src))).toEqual(new Set(['A', 'B']));
    // The invalid ticks were reported to their feeds, never published.
    expect(ups.every((u) => typeof u.p === 'number')).toBe(true);
    await sub.expectNone(150);
  });

  test('t accepts large integers (msgpackr writes them as float64) and forwards them', async () => {
    const sub = await ts.stream('symbols=FT.T');
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    const t = 1_700_000_000_123_456;
    feed.sendPack({ s: 'FT.T', p: 1, t });
    feed.sendPack({ s: 'FT.T', p: 2, t: 0 });
    const ups = await sub.updates(2);
    expect(ups[0]).toEqual({ s: 'FT.T', p: 1, t, n: 1, r: ups[0]!.r });
    expect(ups[1]).toEqual({ s: 'FT.T', p: 2, t: 0, n: 2, r: ups[1]!.r });
  });
});
