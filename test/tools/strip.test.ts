/**
 * The strip function (src/tools/strip.ts): an update made by the real
 * pipeline, or built by hand, gives back the feed's tick byte for byte, for
 * fixmap and map16 ticks, `n` as uint32 and uint64; a buffer whose last two
 * keys are not `n` and `r` is refused. Also the frame splitter the recorder
 * uses (frames.ts).
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { ToolError } from '../../src/tools/cli.js';
import { splitFrame } from '../../src/tools/frames.js';
import { readUpdate, stripInto, stripUpdate, strippedBytes } from '../../src/tools/strip.js';
import { hex, makeUpdate, pack } from './helpers.js';

const silent: Publisher = { publish: () => undefined, subscribers: () => 0 };

/** A pipeline whose every update is copied out as it is recorded. */
function pipeline(): { p: Pipeline; updates: { symbol: string; n: number; bytes: Uint8Array }[] } {
  const p = new Pipeline(silent, { coalesce: 'frame' });
  const updates: { symbol: string; n: number; bytes: Uint8Array }[] = [];
  p.recorder = {
    append(symbol, n, _r, update) {
      updates.push({ symbol, n, bytes: Uint8Array.from(update) });
      return updates.length;
    },
  };
  return { p, updates };
}

/** {s, p} plus extra keys up to `keys` keys in all. */
function tick(symbol: string, keys: number): Record<string, unknown> {
  const t: Record<string, unknown> = { s: symbol, p: 1.5 };
  for (let k = 2; k < keys; k++) t[`k${k}`] = k % 3 === 0 ? `v${k}` : k;
  return t;
}

function expectBadUpdate(bytes: Uint8Array, why: RegExp): void {
  let error: unknown;
  try {
    stripUpdate(bytes);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ToolError);
  expect((error as ToolError).code).toBe('bad_update');
  expect((error as ToolError).message).toMatch(why);
}

describe('stripUpdate on updates made by the pipeline', () => {
  // 2 and 13 keys: fixmap before and after; 14: map16 (16 pairs) stored, fixmap fed;
  // 20 and 64: map16 both ways.
  it.each([2, 13, 14, 20, 64])('gives back the fed bytes of a %i-key tick', (keys) => {
    const { p, updates } = pipeline();
    const fed = pack(tick('AAA', keys));
    p.process(fed, performance.now());
    expect(updates).toHaveLength(1);
    const update = updates[0]!.bytes;
    expect(update[0]).toBe(keys + 2 < 16 ? 0x80 | (keys + 2) : 0xde);
    expect(hex(stripUpdate(update))).toBe(hex(fed));
    const layout = readUpdate(update);
    expect(layout.n).toBe(1);
    expect(layout.entries).toBe(keys + 2);
  });

  it("keeps the feed's own t and every value byte for byte, in a batch", () => {
    const { p, updates } = pipeline();
    const ticks = [
      { s: 'A.B', p: 1, q: 2.25, t: 1_700_000_000_123_456, x: 'str', y: null, z: true },
      { s: 'C:D/E', p: -3.5e-7, b: 1, a: 2 },
      { s: 'A.B', p: 2 ** 40, t: 0 },
    ];
    p.process(pack(ticks), performance.now());
    expect(updates.map((u) => [u.symbol, u.n])).toEqual([
      ['A.B', 1],
      ['C:D/E', 1],
      ['A.B', 2],
    ]);
    updates.forEach((u, i) => expect(hex(stripUpdate(u.bytes))).toBe(hex(pack(ticks[i]))));
  });

  it('reads n written as uint64 (past 2^32) and strips it', () => {
    const { p, updates } = pipeline();
    p.process(pack({ s: 'BIG', p: 1 }), performance.now());
    p.restore('BIG', 2 ** 32 + 5, updates[0]!.bytes);
    const fed = pack(tick('BIG', 15));
    p.process(fed, performance.now());
    const update = updates[1]!.bytes;
    const layout = readUpdate(update);
    expect(layout.n).toBe(2 ** 32 + 6);
    expect(update[layout.trailerStart + 2]).toBe(0xcf);
    expect(hex(stripUpdate(update))).toBe(hex(fed));
  });

  it('writes the header the server writes: a small tick sent with map16 comes back as fixmap', () => {
    const { p, updates } = pipeline();
    const wide = new Packr({ useRecords: false }).pack({ s: 'W', p: 1 });
    expect(wide[0]).toBe(0xde);
    p.process(wide, performance.now());
    const back = stripUpdate(updates[0]!.bytes);
    expect(hex(back)).toBe(hex(pack({ s: 'W', p: 1 })));
    expect(hex(back.subarray(1))).toBe(hex(wide.subarray(3)));
  });
});

describe('stripUpdate on hand-built updates', () => {
  it.each([
    ['fixmap, n uint32', 3, 7],
    ['fixmap, n uint64', 3, 2 ** 40 + 1],
    ['map16, n uint32', 30, 0xffffffff],
    ['map16, n uint64', 30, 2 ** 53 - 1],
  ])('%s', (_name, keys, n) => {
    const t = tick('SYM', keys);
    const r = 1_765_000_000_000_000;
    const update = makeUpdate(t, n, r);
    const layout = readUpdate(update);
    expect([layout.n, layout.r]).toEqual([n, r]);
    expect(Buffer.from(update.subarray(layout.symbolStart, layout.symbolEnd)).toString()).toBe(
      'SYM',
    );
    expect(hex(stripUpdate(update))).toBe(hex(pack(t)));
    // Into a buffer at an offset, exactly strippedBytes long.
    const out = new Uint8Array(strippedBytes(layout) + 4).fill(0xee);
    expect(stripInto(update, layout, out, 2)).toBe(2 + strippedBytes(layout));
    expect(hex(out.subarray(2, 2 + strippedBytes(layout)))).toBe(hex(pack(t)));
    expect([out[0], out[1], out.at(-1), out.at(-2)]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });

  it('finds the update inside a larger buffer (start, end)', () => {
    const update = makeUpdate({ s: 'X', p: 2 }, 9, 10);
    const framed = Uint8Array.from([0x92, ...update, ...update]);
    const layout = readUpdate(framed, 1, 1 + update.length);
    expect([layout.n, layout.end]).toEqual([9, 1 + update.length]);
  });

  it('refuses a buffer whose last two keys are not n and r', () => {
    expectBadUpdate(pack({ s: 'A', p: 1 }), /next-to-last key is not "n"/);
    expectBadUpdate(pack({ s: 'A', p: 1, r: 2, n: 1 }), /next-to-last key is not "n"/);
    expectBadUpdate(pack({ s: 'A', n: 1, p: 1, r: 2 }), /next-to-last key is not "n"/);
    expectBadUpdate(pack({ s: 'A', p: 1, n: 1, x: 2 }), /last key is not "r"/);
    expectBadUpdate(pack({ s: 'A', p: 1, n: -1, r: 2 }), /"n" is not an unsigned integer/);
    expectBadUpdate(pack({ s: 'A', p: 1, n: 1, r: 'x' }), /"r" is not an unsigned integer/);
    expectBadUpdate(pack({ n: 1 }), /cannot end with n and r/);
    expectBadUpdate(pack([1, 2]), /not a map/);
    expectBadUpdate(new Uint8Array(0), /empty/);
    const good = makeUpdate({ s: 'A', p: 1 }, 1, 2);
    expectBadUpdate(Uint8Array.from([...good, 0xc0]), /1 bytes after "r"/);
    expectBadUpdate(good.subarray(0, good.length - 1), /"r" is not an unsigned integer/);
    expectBadUpdate(good.subarray(0, 4), /malformed or cut short/);
  });
});

describe('splitFrame (what the recorder receives)', () => {
  const u1 = makeUpdate({ s: 'A', p: 1 }, 1, 5);
  const u2 = makeUpdate({ s: 'B', p: 2, op: 'looks like control' }, 3, 6);

  it('splits an array of updates and takes a single one whole', () => {
    const frame = Uint8Array.from([0x92, ...u1, ...u2]);
    expect(splitFrame(frame)).toEqual({
      kind: 'updates',
      bounds: [1, 1 + u1.length, 1 + u1.length, frame.length],
    });
    // A tick may carry an `op` key: its shape says it is an update.
    expect(splitFrame(u2)).toEqual({ kind: 'updates', bounds: [0, u2.length] });
  });

  it('splits a snapshot and decodes other control messages', () => {
    const ticks = Uint8Array.from([0x92, ...u1, ...u2]);
    const head = pack({ op: 'snapshot', epoch: 'abc-1' });
    const snapshot = Uint8Array.from([
      0x83,
      ...head.subarray(1),
      0xa5,
      ...Buffer.from('ticks'),
      ...ticks,
    ]);
    const start = snapshot.length - ticks.length + 1;
    expect(splitFrame(snapshot)).toEqual({
      kind: 'snapshot',
      epoch: 'abc-1',
      bounds: [start, start + u1.length, start + u1.length, snapshot.length],
    });
    expect(splitFrame(pack({ op: 'ack', frame: 1, accepted: 2, rejected: 0 }))).toEqual({
      kind: 'control',
      message: { op: 'ack', frame: 1, accepted: 2, rejected: 0 },
    });
    expect(splitFrame(pack('text')).kind).toBe('unknown');
  });
});
