/**
 * Frame-level verdicts: broken, truncated, oversized, deeply nested and
 * hostile frames. BadFrame/TooLarge are status codes; nothing ever throws,
 * and declared lengths are never trusted.
 */
import { describe, expect, it } from 'vitest';
import { MAX_BATCH } from '../../src/protocol/codes.js';
import { MAX_DEPTH } from '../../src/protocol/tick-scanner.js';
import {
  array,
  arrayHeader,
  bin8,
  f32,
  f64,
  FrameStatus,
  hex,
  i64,
  map,
  mapHeader,
  mp,
  nil,
  pack,
  str,
  tick,
  TickFault,
  TickScanner,
  u16,
  u32,
  u64,
} from './helpers.js';

const scanner = new TickScanner();
const statusOf = (bytes: Uint8Array, length?: number) => scanner.scan(bytes, length);

/** A batch with many encodings, used for truncation and mutation. */
function richBatch(): Uint8Array {
  return array([
    pack({ s: 'AAPL', p: 189.5, q: 100, b: 189.4, a: 189.6, t: 1700000000000000 }),
    map(
      [
        ['s', str('MSFT', 'str8')],
        ['p', f32(411.25)],
        ['t', u64(1700000000000001)],
      ],
      'map32',
    ),
    map(
      [
        ['p', i64(-5)],
        ['s', 'X'],
        ['note', str('hello', 'str16')],
        ['z', nil],
      ],
      'map16',
    ),
    pack({ s: 'BAD', p: 1, x: [1, { y: 2 }], d: new Date(0) }),
    mp(0x05),
    map([
      ['s', 'E'],
      ['p', 1],
      ['bin', bin8([1, 2, 3])],
      ['ext', mp(0xc7, 1, 5, 0)],
    ]),
  ]);
}

describe('frame shape', () => {
  it('rejects an empty frame', () => {
    expect(statusOf(new Uint8Array(0))).toBe(FrameStatus.BadFrame);
    expect(scanner.count).toBe(0);
  });

  it.each([
    ['positive fixint', '05'],
    ['negative fixint', 'ff'],
    ['nil', 'c0'],
    ['true', 'c3'],
    ['false', 'c2'],
    ['reserved c1', 'c1'],
    ['fixstr', 'a3 41 42 43'],
    ['str8', 'd9 01 41'],
    ['str16', 'da 00 01 41'],
    ['str32', 'db 00 00 00 01 41'],
    ['bin8', 'c4 01 00'],
    ['bin16', 'c5 00 01 00'],
    ['bin32', 'c6 00 00 00 01 00'],
    ['float32', 'ca 3f c0 00 00'],
    ['float64', 'cb 3f f8 00 00 00 00 00 00'],
    ['uint8', 'cc 01'],
    ['uint64', 'cf 00 00 00 00 00 00 00 01'],
    ['int64', 'd3 00 00 00 00 00 00 00 01'],
    ['fixext1', 'd4 01 00'],
    ['fixext16', 'd8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'],
    ['ext8', 'c7 01 01 00'],
    ['ext16', 'c8 00 01 01 00'],
    ['ext32', 'c9 00 00 00 01 01 00'],
    ['timestamp ext', 'd6 ff 00 00 00 00'],
  ])('rejects a top-level %s', (_name, h) => {
    expect(statusOf(hex(h))).toBe(FrameStatus.BadFrame);
  });

  it('rejects a msgpackr-encoded top-level Date, string and number', () => {
    for (const v of [new Date(0), 'AAPL', 42, 1.5, null, true]) {
      expect(statusOf(pack(v))).toBe(FrameStatus.BadFrame);
    }
  });

  it('rejects trailing bytes after a single map or a batch', () => {
    const single = pack({ s: 'A', p: 1 });
    const batch = pack([{ s: 'A', p: 1 }]);
    for (const extra of [[0x00], [0xc0], [0x80], [0x90], [0xc1], Array.from(single)]) {
      expect(statusOf(mp(single, extra))).toBe(FrameStatus.BadFrame);
      expect(statusOf(mp(batch, extra))).toBe(FrameStatus.BadFrame);
    }
    expect(statusOf(mp(0x90, 0x90))).toBe(FrameStatus.BadFrame);
  });

  it('rejects a batch whose header promises more elements than present', () => {
    expect(statusOf(mp(0x92, pack({ s: 'A', p: 1 })))).toBe(FrameStatus.BadFrame);
    expect(statusOf(mp(0x91))).toBe(FrameStatus.BadFrame);
    expect(statusOf(hex('dc 00'))).toBe(FrameStatus.BadFrame);
    expect(statusOf(hex('dd 00 00 00'))).toBe(FrameStatus.BadFrame);
    expect(statusOf(hex('de 00'))).toBe(FrameStatus.BadFrame);
    expect(statusOf(hex('df 00 00 00'))).toBe(FrameStatus.BadFrame);
  });
});

describe('truncation', () => {
  const frames: [string, Uint8Array][] = [
    ['rich batch', richBatch()],
    ['single tick', pack({ s: 'BTC-USD', p: 64210.5, q: 0.25, b: 64210, a: 64211, t: 2 ** 50 })],
    [
      'hand-written map32 tick',
      map(
        [
          ['s', 'A'],
          ['p', u64(7)],
          ['x', str('y'.repeat(300), 'str32')],
        ],
        'map32',
      ),
    ],
  ];

  it.each(frames)('%s: every proper prefix is BadFrame and never throws', (_name, frame) => {
    expect(statusOf(frame)).toBe(FrameStatus.Ok);
    for (let len = 0; len < frame.length; len++) {
      // A copy, so nothing past the cut exists ...
      expect(statusOf(frame.slice(0, len))).toBe(FrameStatus.BadFrame);
      // ... and the same cut through `length`, with the real bytes still behind it.
      expect(statusOf(frame, len)).toBe(FrameStatus.BadFrame);
    }
  });
});

describe('reserved byte 0xc1', () => {
  const good = pack({ s: 'A', p: 1 });
  it.each([
    ['top level', mp(0xc1)],
    [
      'as a key',
      map([
        ['s', 'A'],
        ['p', 1],
        [0xc1, 1],
      ]),
    ],
    [
      'as the s value',
      map([
        ['s', 0xc1],
        ['p', 1],
      ]),
    ],
    [
      'as the p value',
      map([
        ['s', 'A'],
        ['p', 0xc1],
      ]),
    ],
    ['as an extra value', tick([['x', 0xc1]])],
    ['inside a nested array value', tick([['x', mp(0x92, 0x01, 0xc1)]])],
    ['inside a nested map value', tick([['x', mp(0x81, 0xa1, 0x6b, 0xc1)]])],
    ['as a batch element', array([good, mp(0xc1), good])],
    ['inside a non-map batch element', array([good, mp(0x91, 0xc1)])],
    ['as a map key after a non-string key', tick([[0x01, 0xc1]])],
  ])('%s → BadFrame', (_name, bytes) => {
    expect(statusOf(bytes)).toBe(FrameStatus.BadFrame);
  });
});

describe('batch size', () => {
  it('accepts 4096 elements and refuses 4097 as TooLarge', () => {
    const el = pack({ s: 'A', p: 1 });
    const ok = array(Array.from({ length: MAX_BATCH }, () => el));
    expect(statusOf(ok)).toBe(FrameStatus.Ok);
    expect(scanner.count).toBe(MAX_BATCH);
    const tooMany = array(Array.from({ length: MAX_BATCH + 1 }, () => el));
    expect(statusOf(tooMany)).toBe(FrameStatus.TooLarge);
    const tooMany32 = array(
      Array.from({ length: MAX_BATCH + 1 }, () => mp(0x01)),
      'array32',
    );
    expect(statusOf(tooMany32)).toBe(FrameStatus.TooLarge);
  });

  it('refuses a count larger than the bytes that follow as BadFrame, not TooLarge', () => {
    expect(statusOf(mp(arrayHeader(MAX_BATCH + 1), new Uint8Array(100)))).toBe(
      FrameStatus.BadFrame,
    );
  });
});

describe('declared lengths past the end', () => {
  const big = (n: number) => new Uint8Array(n).fill(0x00);
  const cases: [string, Uint8Array][] = [
    ['array32 claiming 2^32-1', mp(0xdd, 0xff, 0xff, 0xff, 0xff, big(64))],
    ['array16 claiming 65535', mp(0xdc, 0xff, 0xff, big(64))],
    ['map32 claiming 2^32-1', mp(0xdf, 0xff, 0xff, 0xff, 0xff, big(64))],
    ['map16 claiming 65535', mp(0xde, 0xff, 0xff, big(64))],
    ['fixmap claiming 15 with 3 entries', mp(0x8f, 's', 'A', 'p', 1, 'x', 1)],
    ['batch map32 element claiming 2^32-1', mp(0x91, 0xdf, 0xff, 0xff, 0xff, 0xff, big(64))],
    ['str32 key past end', tick([[mp(0xdb, 0xff, 0xff, 0xff, 0xff), 1]])],
    ['str16 key past end', mp(0x81, 0xda, 0x01, 0x00, 0x61)],
    ['str8 key past end', mp(0x81, 0xd9, 0x10, 0x61)],
    ['fixstr key past end', mp(0x81, 0xa5, 0x61)],
    ['str32 value past end', mp(0x83, 's', 'A', 'p', 1, 'x', 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)],
    ['str32 symbol past end', mp(0x82, 'p', 1, 's', 0xdb, 0x7f, 0xff, 0xff, 0xff, 0x41)],
    ['bin32 value past end', mp(0x83, 's', 'A', 'p', 1, 'x', 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00)],
    ['bin16 value past end', mp(0x83, 's', 'A', 'p', 1, 'x', 0xc5, 0xff, 0xff, 0x00)],
    ['ext32 value past end', mp(0x83, 's', 'A', 'p', 1, 'x', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01)],
    ['ext16 value past end', mp(0x83, 's', 'A', 'p', 1, 'x', 0xc8, 0xff, 0xff, 0x01)],
    ['ext8 value past end', mp(0x83, 's', 'A', 'p', 1, 'x', 0xc7, 0xff, 0x01)],
    [
      'array32 value claiming 2^32-1',
      mp(0x83, 's', 'A', 'p', 1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff, big(16)),
    ],
    [
      'map32 value claiming 2^32-1',
      mp(0x83, 's', 'A', 'p', 1, 'x', 0xdf, 0xff, 0xff, 0xff, 0xff, big(16)),
    ],
    ['array16 value claiming 65535', mp(0x83, 's', 'A', 'p', 1, 'x', 0xdc, 0xff, 0xff, big(16))],
    ['map16 value claiming 65535', mp(0x83, 's', 'A', 'p', 1, 'x', 0xde, 0xff, 0xff, big(16))],
    [
      'array32 non-string key',
      mp(0x83, 's', 'A', 'p', 1, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, big(8)),
    ],
    ['map32 in a non-map batch element', mp(0x91, 0x91, 0xdf, 0xff, 0xff, 0xff, 0xff, big(16))],
    ['float64 cut short', mp(0x82, 's', 'A', 'p', 0xcb, 0x40, 0x67)],
    ['float32 cut short', mp(0x82, 's', 'A', 'p', 0xca, 0x40)],
    ['uint64 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xcf, 0x00)],
    ['int64 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xd3, 0x00)],
    ['uint32 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xce, 0x00)],
    ['int32 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xd2, 0x00)],
    ['uint16 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xcd, 0x00)],
    ['int16 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xd1, 0x00)],
    ['uint8 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xcc)],
    ['int8 cut short', mp(0x83, 's', 'A', 'p', 1, 't', 0xd0)],
    ['missing value', mp(0x83, 's', 'A', 'p', 1, 't')],
  ];

  it.each(cases)('%s → BadFrame quickly', (_name, bytes) => {
    const t0 = performance.now();
    expect(statusOf(bytes)).toBe(FrameStatus.BadFrame);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('rejects a 1 MiB frame of nested array16 headers quickly', () => {
    const bomb = new Uint8Array(1 << 20);
    for (let i = 0; i + 2 < bomb.length; i += 3) bomb.set([0xdc, 0xff, 0xff], i);
    const asValue = mp(0x83, 's', 'A', 'p', 1, 'x', bomb);
    const cases: [Uint8Array, FrameStatus][] = [
      // 65535 elements fit in 1 MiB, so the top-level array is simply too large.
      [bomb, FrameStatus.TooLarge],
      [asValue, FrameStatus.BadFrame],
      [mp(0x91, bomb), FrameStatus.BadFrame],
      [mp(0x91, asValue), FrameStatus.BadFrame],
    ];
    for (const [frame, status] of cases) {
      const t0 = performance.now();
      expect(statusOf(frame)).toBe(status);
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });

  it('scans a 1 MiB batch of wide ticks in linear time', () => {
    const filler: Record<string, unknown> = { s: 'WIDE', p: 1 };
    for (let k = 0; k < 60; k++) filler[`k${k}`] = 'v'.repeat(2);
    const el = pack(filler);
    const n = Math.min(MAX_BATCH, Math.floor((1 << 20) / el.length));
    const frame = array(Array.from({ length: n }, () => el));
    const t0 = performance.now();
    expect(statusOf(frame)).toBe(FrameStatus.Ok);
    expect(scanner.invalid).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

/** `levels` nested fixarrays (outermost first) around `inner`. */
function nestArrays(levels: number, inner: Uint8Array): Uint8Array {
  let v = inner;
  for (let i = 0; i < levels; i++) v = mp(0x91, v);
  return v;
}

/** Like nestArrays, with 1-entry maps {"k": …} instead. */
function nestMaps(levels: number, inner: Uint8Array): Uint8Array {
  let v = inner;
  for (let i = 0; i < levels; i++) v = mp(0x81, 'k', v);
  return v;
}

describe('nesting depth (the frame counts from level 1)', () => {
  // A single tick is level 1, its value containers start at level 2.
  const single = (levels: number, inner: Uint8Array) => tick([['x', nestArrays(levels, inner)]]);
  // A batch is level 1, its ticks level 2, their value containers level 3.
  const batched = (levels: number, inner: Uint8Array) => array([single(levels, inner)]);
  const one = mp(0x01);
  const empty = mp(0x90);

  it('has MAX_DEPTH 8', () => {
    expect(MAX_DEPTH).toBe(8);
  });

  it.each([
    ['single tick, scalar inside', single, 1, one],
    ['single tick, empty innermost array', single, 1, empty],
    ['batch, scalar inside', batched, 2, one],
    ['batch, empty innermost array', batched, 2, empty],
  ] as const)(
    '%s: depth 8 is a NestedValue tick, depth 9 is BadFrame',
    (_n, build, outer, inner) => {
      // Container levels: `outer` for the frame (and tick), then the value's arrays;
      // an empty innermost array counts as a level itself.
      const extra = inner === empty ? 1 : 0;
      const within = MAX_DEPTH - outer - extra;
      expect(statusOf(build(within, inner))).toBe(FrameStatus.Ok);
      expect(scanner.fault[0]).toBe(TickFault.NestedValue);
      expect(statusOf(build(within + 1, inner))).toBe(FrameStatus.BadFrame);
      expect(statusOf(build(within + 50, inner))).toBe(FrameStatus.BadFrame);
    },
  );

  it('counts maps like arrays', () => {
    expect(statusOf(tick([['x', nestMaps(7, one)]]))).toBe(FrameStatus.Ok);
    expect(scanner.fault[0]).toBe(TickFault.NestedValue);
    expect(statusOf(tick([['x', nestMaps(8, one)]]))).toBe(FrameStatus.BadFrame);
    expect(statusOf(array([tick([['x', nestMaps(6, one)]])]))).toBe(FrameStatus.Ok);
    expect(statusOf(array([tick([['x', nestMaps(7, one)]])]))).toBe(FrameStatus.BadFrame);
  });

  it('limits non-string keys and non-map batch elements the same way', () => {
    expect(statusOf(tick([[nestArrays(7, one), 1]]))).toBe(FrameStatus.Ok);
    expect(scanner.fault[0]).toBe(TickFault.NonStringKey);
    expect(statusOf(tick([[nestArrays(8, one), 1]]))).toBe(FrameStatus.BadFrame);
    // Batch level 1, the element's arrays from level 2.
    expect(statusOf(array([nestArrays(7, one)]))).toBe(FrameStatus.Ok);
    expect(scanner.fault[0]).toBe(TickFault.NotAMap);
    expect(statusOf(array([nestArrays(8, one)]))).toBe(FrameStatus.BadFrame);
  });

  it('keeps the other ticks of a batch valid next to a NestedValue tick', () => {
    const frame = array([pack({ s: 'A', p: 1 }), single(5, one), pack({ s: 'B', p: 2 })]);
    expect(statusOf(frame)).toBe(FrameStatus.Ok);
    expect(Array.from(scanner.fault.subarray(0, 3))).toEqual([
      TickFault.None,
      TickFault.NestedValue,
      TickFault.None,
    ]);
  });
});

describe('numbers at the byte level', () => {
  it('reads every integer width for an extra key', () => {
    for (const v of [
      u16(65535),
      u32(2 ** 32 - 1),
      u64(2n ** 64n - 1n),
      i64(-(2n ** 63n)),
      f64(-0),
      mapHeader(0),
    ]) {
      const s = statusOf(tick([['x', v]]));
      expect(s).toBe(FrameStatus.Ok);
    }
  });
});
