import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { FrameStatus } from '../../src/protocol/tick-scanner.js';
import { StubPublisher, decode, pack, type Tick, type Update } from './stub-publisher.js';

function setup(topics: readonly string[] = ['m:*'], options = {}) {
  const pub = new StubPublisher().subscribe(topics);
  const pipeline = new Pipeline(pub, { coalesce: 'frame', ...options });
  const run = (value: unknown): number => pipeline.process(pack(value), performance.now());
  return { pub, pipeline, run };
}

/** Offset of the first byte after the map header of the update at `bytes`. */
function mapHeader(bytes: Uint8Array): { entries: number; headerLength: number } {
  const c = bytes[0]!;
  if ((c & 0xf0) === 0x80) return { entries: c & 0x0f, headerLength: 1 };
  if (c === 0xde) return { entries: (bytes[1]! << 8) | bytes[2]!, headerLength: 3 };
  throw new Error(`not a fixmap/map16: ${c.toString(16)}`);
}

/** {s:"A", p:1} plus extra keys up to `keys` keys in all. */
function tickWithKeys(keys: number): Tick {
  const tick: Tick = { s: 'A', p: 1 };
  for (let k = 2; k < keys; k++) tick[`k${k}`] = k;
  return tick;
}

function expectUpdateOf(update: unknown, tick: Tick, n: number): void {
  const u = update as Update;
  expect(Object.keys(u)).toEqual([...Object.keys(tick), 'n', 'r']);
  expect(u).toEqual({ ...tick, n, r: u.r });
  expect(Number.isInteger(u.r)).toBe(true);
}

describe('Pipeline publishing', () => {
  it('publishes a single tick as a map to m:SYM and m:*', () => {
    const { pub, pipeline, run } = setup(['m:AAPL', 'm:*']);
    const tick = { s: 'AAPL', p: 189.5 };
    expect(run(tick)).toBe(FrameStatus.Ok);
    expect(pipeline.accepted).toBe(1);
    expect(pipeline.rejected).toBe(0);
    expect(pub.published.map((p) => [p.topic, p.isBinary])).toEqual([
      ['m:AAPL', true],
      ['m:*', true],
    ]);
    const [bySymbol] = pub.decoded('m:AAPL');
    const [wildcard] = pub.decoded('m:*');
    expectUpdateOf(bySymbol, tick, 1);
    expect(wildcard).toEqual(bySymbol);
  });

  it('publishes to m:SYM only when that topic has subscribers', () => {
    const { pub, run } = setup(['m:AAPL', 'm:*']);
    run([
      { s: 'AAPL', p: 1 },
      { s: 'MSFT', p: 2 },
      { s: 'AAPL', p: 3 },
    ]);
    expect(pub.on('m:MSFT')).toEqual([]);
    // One frame per topic: AAPL's two updates travel as one array.
    expect(pub.on('m:AAPL')).toHaveLength(1);
    expect((pub.updates('m:AAPL') as Update[]).map((u) => u.p)).toEqual([1, 3]);
    expect(pub.on('m:*')).toHaveLength(1);
  });

  it('publishes nothing at all without subscribers, yet sequences the ticks', () => {
    const { pub, pipeline, run } = setup([]);
    run({ s: 'AAPL', p: 1 });
    run({ s: 'AAPL', p: 2 });
    expect(pub.published).toEqual([]);
    expect(pipeline.accepted).toBe(1);
    expect(pipeline.counters.ticksPublished).toBe(2);
    expect(pipeline.symbols.get('AAPL')!.seq).toBe(2);
  });

  it('publishes no m:* frame when m:* has no subscribers', () => {
    const { pub, run } = setup(['m:AAPL']);
    run([
      { s: 'AAPL', p: 1 },
      { s: 'AAPL', p: 2 },
    ]);
    expect(pub.on('m:*')).toEqual([]);
    expect(pub.on('m:AAPL')).toHaveLength(1);
    expect(pub.updates('m:AAPL')).toHaveLength(2);
  });

  it('publishes one m:* array per batch, with every valid update in order', () => {
    const { pub, run } = setup(['m:*', 'm:A', 'm:B']);
    const ticks = [
      { s: 'A', p: 1, q: 10 },
      { s: 'B', p: 2, b: 1.5, a: 2.5 },
      { s: 'A', p: 3, t: 1_700_000_000_000_000 },
    ];
    run(ticks);
    const all = pub.on('m:*');
    expect(all).toHaveLength(1);
    expect((all[0]!.message as Uint8Array)[0]).toBe(0x93);
    const updates = decode(all[0]!.message as Uint8Array) as Update[];
    expect(updates).toHaveLength(3);
    expectUpdateOf(updates[0], ticks[0]!, 1);
    expectUpdateOf(updates[1], ticks[1]!, 1);
    expectUpdateOf(updates[2], ticks[2]!, 2);
    expect(pub.decoded('m:A')).toEqual([[updates[0], updates[2]]]);
    expect(pub.decoded('m:B')).toEqual([updates[1]]);
  });

  it('sends a map, not an array, on m:* when a batch has exactly one valid tick', () => {
    const { pub, run } = setup(['m:*']);
    run([{ s: 'A' }, { s: 'B', p: 7 }, 42]);
    const [frame] = pub.on('m:*');
    const bytes = frame!.message as Uint8Array;
    expect(bytes[0]! & 0xf0).toBe(0x80);
    expectUpdateOf(decode(bytes), { s: 'B', p: 7 }, 1);
  });

  it('publishes nothing for a batch without valid ticks, or an empty batch', () => {
    const { pub, pipeline, run } = setup(['m:*', 'm:A']);
    expect(run([{ s: 'A' }, 'x'])).toBe(FrameStatus.Ok);
    expect(pipeline.accepted).toBe(0);
    expect(run([])).toBe(FrameStatus.Ok);
    expect(pipeline.accepted).toBe(0);
    expect(pipeline.rejected).toBe(0);
    expect(pub.published).toEqual([]);
  });

  it('uses an array16 header on m:* for more than 15 updates', () => {
    const { pub, run } = setup(['m:*']);
    const ticks = Array.from({ length: 20 }, (_, i) => ({ s: `S${i % 3}`, p: i }));
    run(ticks);
    const bytes = pub.on('m:*')[0]!.message as Uint8Array;
    expect(Array.from(bytes.subarray(0, 3))).toEqual([0xdc, 0x00, 20]);
    const updates = decode(bytes) as Update[];
    expect(updates.map((u) => u.p)).toEqual(ticks.map((t) => t.p));
  });

  it('handles a full batch of 4096 ticks', () => {
    const { pub, pipeline, run } = setup(['m:*']);
    const ticks = Array.from({ length: 4096 }, (_, i) => ({ s: `S${i % 50}`, p: i, x: 'pad' }));
    expect(run(ticks)).toBe(FrameStatus.Ok);
    expect(pipeline.accepted).toBe(4096);
    const updates = decode(pub.on('m:*')[0]!.message as Uint8Array) as Update[];
    expect(updates).toHaveLength(4096);
    updates.forEach((u, i) => {
      expect(u.p).toBe(i);
      expect(u.n).toBe(Math.floor(i / 50) + 1);
    });
  });

  it('keeps every update exactly as sent, extra scalar keys included, with n and r appended', () => {
    const { pub, run } = setup(['m:*']);
    const tick = {
      x: 'first',
      s: 'ETH-USD',
      flag: true,
      none: null,
      p: -0.5,
      q: 0,
      big: 2 ** 40,
      neg: -123456,
      f: 1.25,
      str: 'é✓',
    };
    run(tick);
    expectUpdateOf(pub.decoded('m:*')[0], tick, 1);
  });

  it('passes the tick body bytes through untouched', () => {
    const { pub, run } = setup(['m:SYM']);
    const frame = pack({ s: 'SYM', p: 1.5, q: 3, z: 'abc' });
    const { headerLength } = mapHeader(frame);
    run({ s: 'SYM', p: 1.5, q: 3, z: 'abc' });
    const out = pub.on('m:SYM')[0]!.message as Uint8Array;
    const outHeader = mapHeader(out);
    expect(outHeader.entries).toBe(6);
    const body = frame.subarray(headerLength);
    expect(
      Array.from(out.subarray(outHeader.headerLength, outHeader.headerLength + body.length)),
    ).toEqual(Array.from(body));
    // Then "n" (0xa1 0x6e) and "r" (0xa1 0x72).
    const tail = out.subarray(outHeader.headerLength + body.length);
    expect(tail.length).toBe(7 + 11);
    expect(Array.from(tail.subarray(0, 3))).toEqual([0xa1, 0x6e, 0xce]);
    expect(Array.from(tail.subarray(7, 10))).toEqual([0xa1, 0x72, 0xcf]);
  });

  it('encodes n as uint32 (0xce) and r as uint64 (0xcf)', () => {
    const { pub, run } = setup(['m:A']);
    run({ s: 'A', p: 1 });
    run({ s: 'A', p: 2 });
    for (const [k, { message }] of pub.on('m:A').entries()) {
      const out = message as Uint8Array;
      const end = out.length;
      // ... a1 6e ce N N N N a1 72 cf R R R R R R R R
      expect(Array.from(out.subarray(end - 18, end - 15))).toEqual([0xa1, 0x6e, 0xce]);
      const n = new DataView(out.buffer, out.byteOffset + end - 15, 4).getUint32(0);
      expect(n).toBe(k + 1);
      expect(Array.from(out.subarray(end - 11, end - 8))).toEqual([0xa1, 0x72, 0xcf]);
      const r = new DataView(out.buffer, out.byteOffset + end - 8, 8).getBigUint64(0);
      expect(Number(r)).toBe((decode(out) as Update).r);
    }
  });

  it('encodes n as uint64 (0xcf) past 2^32', () => {
    const { pub, pipeline, run } = setup(['m:A']);
    run({ s: 'A', p: 1 });
    pipeline.symbols.get('A')!.seq = 0xffffffff;
    run({ s: 'A', p: 2 });
    const out = pub.on('m:A')[1]!.message as Uint8Array;
    const end = out.length;
    expect(Array.from(out.subarray(end - 22, end - 19))).toEqual([0xa1, 0x6e, 0xcf]);
    const n = new DataView(out.buffer, out.byteOffset + end - 19, 8).getBigUint64(0);
    expect(n).toBe(2n ** 32n);
    expect((decode(out) as Update).n).toBe(2 ** 32);
    expect(Array.from(out.subarray(end - 11, end - 8))).toEqual([0xa1, 0x72, 0xcf]);
  });

  it('sets r to the receive time in integer µs since the epoch', () => {
    const { pub, run } = setup(['m:*']);
    const before = Date.now() * 1000;
    run([
      { s: 'A', p: 1 },
      { s: 'B', p: 2 },
    ]);
    const after = Date.now() * 1000;
    const updates = pub.decoded('m:*')[0] as Update[];
    for (const u of updates) {
      expect(Number.isSafeInteger(u.r)).toBe(true);
      // Generous bound (60 s): the clocks differ in origin, this is not a timing check.
      expect(u.r).toBeGreaterThan(before - 60_000_000);
      expect(u.r).toBeLessThan(after + 60_000_000);
    }
    // Every update of a frame carries the frame's receive time.
    expect(updates[0]!.r).toBe(updates[1]!.r);
  });

  it('derives r from the entry time passed to process()', () => {
    const pub = new StubPublisher().subscribe(['m:A']);
    const pipeline = new Pipeline(pub, { coalesce: 'frame' });
    const entry = performance.now();
    pipeline.process(pack({ s: 'A', p: 1 }), entry);
    pipeline.process(pack({ s: 'A', p: 1 }), entry + 1000);
    const [u1, u2] = pub.decoded('m:A') as Update[];
    // One second later, in µs (floor of each may differ by 1).
    expect(Math.abs(u2!.r - u1!.r - 1_000_000)).toBeLessThanOrEqual(1);
  });

  it.each([
    [2, 0x84],
    [12, 0x8e],
    [13, 0x8f],
  ])('writes a fixmap header for a tick with %i keys (≤ 15 entries with n, r)', (keys, byte) => {
    const { pub, run } = setup(['m:A']);
    const tick = tickWithKeys(keys);
    run(tick);
    const out = pub.on('m:A')[0]!.message as Uint8Array;
    expect(out[0]).toBe(byte);
    expectUpdateOf(decode(out), tick, 1);
  });

  it.each([14, 16, 64])('writes a map16 header for a tick with %i keys', (keys) => {
    const { pub, run } = setup(['m:A', 'm:*']);
    const tick = tickWithKeys(keys);
    run(tick);
    const out = pub.on('m:A')[0]!.message as Uint8Array;
    expect(Array.from(out.subarray(0, 3))).toEqual([0xde, 0x00, keys + 2]);
    expectUpdateOf(decode(out), tick, 1);
    expect(pub.decoded('m:*')[0]).toEqual(decode(out));
  });

  it('re-encodes a map16 or map32 input header as a fixmap when small', () => {
    const { pub, pipeline } = setup(['m:A']);
    // map32 header for {s:"A", p:1}
    const frame = Uint8Array.from([0xdf, 0, 0, 0, 2, 0xa1, 0x73, 0xa1, 0x41, 0xa1, 0x70, 0x01]);
    expect(pipeline.process(frame, performance.now())).toBe(FrameStatus.Ok);
    const out = pub.on('m:A')[0]!.message as Uint8Array;
    expect(out[0]).toBe(0x84);
    expectUpdateOf(decode(out), { s: 'A', p: 1 }, 1);
  });

  it('records one latency sample per published tick', () => {
    const { pipeline, run } = setup(['m:*']);
    expect(pipeline.latency.summary().samples).toBe(0);
    run({ s: 'A', p: 1 });
    expect(pipeline.latency.summary().samples).toBe(1);
    run([{ s: 'A', p: 1 }, { s: 'B', p: 1 }, { s: 'C' }, { s: 'D', p: 2 }]);
    expect(pipeline.latency.summary().samples).toBe(4);
    run([{ s: 'A' }]);
    pipeline.process(Uint8Array.of(0xc1), performance.now());
    expect(pipeline.latency.summary().samples).toBe(4);
    const s = pipeline.latency.summary();
    expect(s.p50).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeGreaterThanOrEqual(s.p50);
  });

  it('honours the latencyWindow option', () => {
    const { pipeline, run } = setup(['m:*'], { latencyWindow: 3 });
    run(Array.from({ length: 10 }, (_, i) => ({ s: 'A', p: i })));
    expect(pipeline.latency.summary().samples).toBe(3);
  });

  it('publishes frames larger than a slab correctly (oversized slab path)', () => {
    const { pub, pipeline, run } = setup(['m:*', 'm:BIG'], { slabSize: 64 });
    const big = Array.from({ length: 30 }, (_, i) => ({ s: 'BIG', p: i, pad: 'x'.repeat(100) }));
    run(big);
    run({ s: 'BIG', p: 99 });
    run(big);
    const frames = pub.decoded('m:*');
    expect(frames).toHaveLength(3);
    expect((frames[0] as Update[]).map((u) => u.n)).toEqual(big.map((_, i) => i + 1));
    expect((frames[1] as Update).n).toBe(31);
    expect((frames[2] as Update[]).map((u) => u.n)).toEqual(big.map((_, i) => i + 32));
    expect(pub.updates('m:BIG')).toHaveLength(61);
    expect(pipeline.slabs.allocated).toBe(2);
  });

  it('does not let later frames corrupt bytes already published', () => {
    const { pub, run } = setup(['m:*', 'm:A', 'm:B']);
    run([
      { s: 'A', p: 1, note: 'first' },
      { s: 'B', p: 2 },
    ]);
    const firstCount = pub.published.length;
    expect(firstCount).toBe(3);
    const snapshotOfCopies = pub.published.map((p) => Array.from(p.message as Uint8Array));
    const firstA = pub.on('m:A')[0]!;
    const firstAbytes = Array.from(firstA.message as Uint8Array);
    for (let k = 0; k < 50; k++)
      run([
        { s: 'B', p: k, pad: 'y'.repeat(k) },
        { s: `N${k}`, p: k },
      ]);
    const first = pub.published.slice(0, firstCount);
    expect(first.map((p) => Array.from(p.message as Uint8Array))).toEqual(snapshotOfCopies);
    // What was handed over is copied by uWS at publish time: later frames
    // may reuse the batcher's buffer, the copies taken then are intact.
    expect(Array.from(firstA.message as Uint8Array)).toEqual(firstAbytes);
    const decoded = first.map((p) => decode(p.message as Uint8Array));
    expect(first.map((p) => p.topic)).toEqual(['m:A', 'm:B', 'm:*']);
    expect((decoded[0] as Update).note).toBe('first');
    expect((decoded[1] as Update).s).toBe('B');
    expect(decoded[2]).toEqual([decoded[0], decoded[1]]);
  });
});
