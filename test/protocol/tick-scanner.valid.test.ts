/**
 * Valid ticks: single maps and batches encoded by msgpackr (the reference
 * encoder) and by hand, for every MessagePack form the contract admits.
 * Checks the frame status, per-tick offsets and symbol bytes/hash.
 */
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH, MAX_TICK_KEYS } from '../../src/protocol/codes.js';
import {
  array,
  f32,
  f64,
  fnv1a,
  FrameStatus,
  hex,
  i16,
  i32,
  i64,
  i8,
  map,
  mp,
  nil,
  pack,
  str,
  TickFault,
  TickScanner,
  u16,
  u32,
  u64,
  u8,
  unpack,
  type Part,
} from './helpers.js';

const packr32 = new Packr({ useRecords: false, useFloat32: FLOAT32_OPTIONS.ALWAYS });
const enc = new TextEncoder();

/** Header size of the map at `bytes[at]`. */
function headerSize(b: number): number {
  if (b === 0xde) return 3;
  if (b === 0xdf) return 5;
  return 1;
}

/** Asserts tick `i` of the last scan is valid and delimits `expected`'s bytes. */
function expectTick(
  scanner: TickScanner,
  bytes: Uint8Array,
  i: number,
  expected: Record<string, unknown>,
): void {
  expect(scanner.fault[i]).toBe(TickFault.None);
  const start = scanner.start[i]!;
  const end = scanner.end[i]!;
  expect(scanner.body[i]).toBe(start + headerSize(bytes[start]!));
  expect(scanner.entries[i]).toBe(Object.keys(expected).length);
  expect(unpack(bytes.subarray(start, end))).toEqual(expected);
  const sym = bytes.subarray(scanner.symStart[i], scanner.symStart[i]! + scanner.symLen[i]!);
  expect(new TextDecoder().decode(sym)).toBe(expected.s);
  expect(scanner.symHash[i]).toBe(fnv1a(enc.encode(expected.s as string)));
}

const SINGLES: Record<string, unknown>[] = [
  { s: 'AAPL', p: 189.5 },
  { s: 'BTC-USD', p: 64210.5, q: 0.25, b: 64210, a: 64211, t: 1700000000000000 },
  { p: 1, s: 'X' },
  { s: 'a', p: 0 },
  { s: 'A', p: -1.5, q: 0, b: -3, a: 4294967295, t: 0 },
  { s: 'Ab.Z_9:/-', p: 1e308, t: 2 ** 53 },
  { s: 'x'.repeat(32), p: -1e-308 },
  // Extra scalars of every width msgpackr emits.
  {
    s: 'EXTRA',
    p: 1,
    nil: null,
    yes: true,
    no: false,
    i0: 0,
    i127: 127,
    i128: 128,
    i255: 255,
    i256: 256,
    i65535: 65535,
    i65536: 65536,
    iu32: 4294967295,
    im1: -1,
    im32: -32,
    im33: -33,
    im128: -128,
    im129: -129,
    im32768: -32768,
    im32769: -32769,
    imin32: -(2 ** 31),
    big: 2 ** 40,
    neg: -(2 ** 40),
    f: 0.1,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    e: '',
    s31: 'y'.repeat(31),
    s32: 'y'.repeat(32),
    s255: 'z'.repeat(255),
    s256: 'z'.repeat(256),
    multi: 'é'.repeat(128),
    cjk: '日本語',
    emoji: '😀',
  },
  { s: 'K', p: 1, ['k'.repeat(256)]: 1, ['ключ']: 'значение', '': 'empty key', S: 1, P: 2 },
];

describe('valid single ticks (msgpackr)', () => {
  it.each(SINGLES.map((o, i) => [i, o] as const))('tick #%i round-trips', (_i, obj) => {
    const bytes = pack(obj);
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.count).toBe(1);
    expect(scanner.isBatch).toBe(false);
    expect(scanner.invalid).toBe(0);
    expect(scanner.start[0]).toBe(0);
    expect(scanner.end[0]).toBe(bytes.length);
    expectTick(scanner, bytes, 0, obj);
  });

  it('accepts float32 numbers for p, q, b, a (msgpackr useFloat32)', () => {
    const obj = { s: 'F32', p: 1.5, q: 0.25, b: -2.5, a: 3.75, x: 0.5 };
    const bytes = new Uint8Array(packr32.pack(obj));
    expect(Array.from(bytes)).toContain(0xca);
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expectTick(scanner, bytes, 0, obj);
  });

  it('accepts exactly 64 keys', () => {
    const obj: Record<string, unknown> = { s: 'K64', p: 1 };
    for (let i = 0; Object.keys(obj).length < MAX_TICK_KEYS; i++) obj[`k${i}`] = i;
    const bytes = pack(obj);
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expectTick(scanner, bytes, 0, obj);
  });

  it('accepts the 19-byte example from docs/protocol.md', () => {
    const bytes = hex('82 a1 73 a4 41 41 50 4c a1 70 cb 40 67 b0 00 00 00 00 00');
    expect(bytes.length).toBe(19);
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.body[0]).toBe(1);
    expect(scanner.symStart[0]).toBe(4);
    expect(scanner.symLen[0]).toBe(4);
    expectTick(scanner, bytes, 0, { s: 'AAPL', p: 189.5 });
  });

  it('scans only buf[0, length) when a length is given', () => {
    const frame = pack({ s: 'LEN', p: 2 });
    const buf = mp(frame, 0xc1, 0xc1, 0xc1);
    const scanner = new TickScanner();
    expect(scanner.scan(buf, frame.length)).toBe(FrameStatus.Ok);
    expect(scanner.end[0]).toBe(frame.length);
    expect(scanner.fault[0]).toBe(TickFault.None);
  });
});

describe('valid batches (msgpackr)', () => {
  const makeBatch = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      i % 3 === 0
        ? { s: `S${i}`, p: i + 0.5 }
        : i % 3 === 1
          ? { s: `SYM.${i}`, p: -i, q: i, b: i - 1, a: i + 1, t: 1700000000000000 + i }
          : { s: `x:${i}/y`, p: i, note: `n${i}`, flag: i % 2 === 0, none: null },
    );

  it.each([0, 1, 2, 15, 16, 17, 100, 1000, MAX_BATCH])('batch of %i', (n) => {
    const objs = makeBatch(n);
    const bytes = pack(objs);
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.isBatch).toBe(true);
    expect(scanner.count).toBe(n);
    expect(scanner.invalid).toBe(0);
    for (let i = 0; i < n; i++) expectTick(scanner, bytes, i, objs[i]!);
    if (n > 0) {
      expect(scanner.end[n - 1]).toBe(bytes.length);
      for (let i = 1; i < n; i++) expect(scanner.start[i]).toBe(scanner.end[i - 1]);
    }
  });

  it('accepts an empty batch in every array form', () => {
    for (const form of ['fix', 'array16', 'array32'] as const) {
      const scanner = new TickScanner();
      expect(scanner.scan(array([], form))).toBe(FrameStatus.Ok);
      expect(scanner.isBatch).toBe(true);
      expect(scanner.count).toBe(0);
      expect(scanner.invalid).toBe(0);
    }
  });
});

describe('hand-written MessagePack forms msgpackr does not choose', () => {
  const cases: [string, Uint8Array, Record<string, unknown>][] = [
    [
      'fixmap',
      map([
        ['s', 'A'],
        ['p', 1],
      ]),
      { s: 'A', p: 1 },
    ],
    [
      'map16',
      map(
        [
          ['s', 'A'],
          ['p', 1],
        ],
        'map16',
      ),
      { s: 'A', p: 1 },
    ],
    [
      'map32',
      map(
        [
          ['s', 'A'],
          ['p', 1],
        ],
        'map32',
      ),
      { s: 'A', p: 1 },
    ],
    [
      'str8/str16/str32 keys and symbol',
      map([
        [str('s', 'str8'), str('SYM', 'str32')],
        [str('p', 'str16'), 2],
        [str('extra', 'str32'), str('v', 'str16')],
      ]),
      { s: 'SYM', p: 2, extra: 'v' },
    ],
    ['t as uint64 (cf)', tickWith('t', u64(1700000000000000)), { t: 1700000000000000 }],
    ['t as uint64 max', tickWith('t', u64(2n ** 64n - 1n)), { t: 2 ** 64 }],
    ['t as positive int64 (d3)', tickWith('t', i64(1700000000000000)), { t: 1700000000000000 }],
    ['t as uint8', tickWith('t', u8(200)), { t: 200 }],
    ['t as uint16', tickWith('t', u16(60000)), { t: 60000 }],
    ['t as uint32', tickWith('t', u32(4000000000)), { t: 4000000000 }],
    ['t as int8 0', tickWith('t', i8(0)), { t: 0 }],
    ['t as int16 positive', tickWith('t', i16(1000)), { t: 1000 }],
    ['t as int32 positive', tickWith('t', i32(100000)), { t: 100000 }],
    ['t as whole float64', tickWith('t', f64(1700000000000000)), { t: 1700000000000000 }],
    ['t as float64 2^53', tickWith('t', f64(2 ** 53)), { t: 2 ** 53 }],
    ['t as float64 -0', tickWith('t', f64(-0)), { t: -0 }],
    ['t as whole float32', tickWith('t', f32(1024)), { t: 1024 }],
    [
      'p as float32',
      map([
        ['s', 'A'],
        ['p', f32(1.5)],
      ]),
      { s: 'A', p: 1.5 },
    ],
    [
      'p as negative fixint',
      map([
        ['s', 'A'],
        ['p', 0xff],
      ]),
      { s: 'A', p: -1 },
    ],
    [
      'p as int8',
      map([
        ['s', 'A'],
        ['p', i8(-100)],
      ]),
      { s: 'A', p: -100 },
    ],
    [
      'p as int16',
      map([
        ['s', 'A'],
        ['p', i16(-30000)],
      ]),
      { s: 'A', p: -30000 },
    ],
    [
      'p as int32',
      map([
        ['s', 'A'],
        ['p', i32(-2000000000)],
      ]),
      { s: 'A', p: -2000000000 },
    ],
    [
      'p as int64 negative',
      map([
        ['s', 'A'],
        ['p', i64(-(2 ** 40))],
      ]),
      { s: 'A', p: -(2 ** 40) },
    ],
    [
      'p as uint64',
      map([
        ['s', 'A'],
        ['p', u64(2 ** 40)],
      ]),
      { s: 'A', p: 2 ** 40 },
    ],
    ['q as float32 0', tickWith('q', f32(0)), { q: 0 }],
    ['q as uint16', tickWith('q', u16(500)), { q: 500 }],
    ['q as float64 -0', tickWith('q', f64(-0)), { q: -0 }],
    ['b as int64, a as float32', tickWith('b', i64(-5), ['a', f32(2.5)]), { b: -5, a: 2.5 }],
    [
      'extra nil/true/false',
      tickWith('x', nil, ['y', 0xc3], ['z', 0xc2]),
      { x: null, y: true, z: false },
    ],
    ['extra float32 NaN', tickWith('x', f32(NaN)), { x: NaN }],
    ['extra uint64', tickWith('x', u64(5)), { x: 5 }],
    [
      'extra str16 of 256 bytes',
      tickWith('x', str('v'.repeat(256), 'str16')),
      { x: 'v'.repeat(256) },
    ],
    [
      'extra str32 of 256 bytes',
      tickWith('x', str('w'.repeat(256), 'str32')),
      { x: 'w'.repeat(256) },
    ],
    ['extra 4-byte UTF-8', tickWith('x', str('𝄞')), { x: '𝄞' }],
  ];

  function tickWith(k: string, v: Uint8Array, ...more: [string, Part][]): Uint8Array {
    return map([['s', 'HW'], ['p', f64(1.25)], [k, v], ...more]);
  }

  it.each(cases)('%s', (_name, bytes, partial) => {
    const expected = 's' in partial ? partial : { s: 'HW', p: 1.25, ...partial };
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.invalid).toBe(0);
    expectTick(scanner, bytes, 0, expected);
    expect(scanner.end[0]).toBe(bytes.length);
  });

  it('accepts hand-written batches in fixarray, array16 and array32 form', () => {
    const ticks = [
      map([
        ['s', 'A'],
        ['p', 1],
      ]),
      map(
        [
          ['s', 'B'],
          ['p', f32(2)],
        ],
        'map16',
      ),
      map(
        [
          ['p', u64(3)],
          ['s', str('C', 'str8')],
        ],
        'map32',
      ),
    ];
    for (const form of ['fix', 'array16', 'array32'] as const) {
      const bytes = array(ticks, form);
      const scanner = new TickScanner();
      expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
      expect(scanner.count).toBe(3);
      expectTick(scanner, bytes, 0, { s: 'A', p: 1 });
      expectTick(scanner, bytes, 1, { s: 'B', p: 2 });
      expectTick(scanner, bytes, 2, { p: 3, s: 'C' });
    }
  });

  it('does not treat keys with equal hashes as duplicates', () => {
    // "k4uzx" and "kf2ad" share an FNV-1a hash.
    expect(fnv1a(enc.encode('k4uzx'))).toBe(fnv1a(enc.encode('kf2ad')));
    const bytes = map([
      ['s', 'H'],
      ['p', 1],
      ['k4uzx', 1],
      ['kf2ad', 2],
    ]);
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.fault[0]).toBe(TickFault.None);
  });
});

describe('scanner reuse', () => {
  it('gives fresh results after bad frames and faulted ticks', () => {
    const scanner = new TickScanner();
    expect(scanner.scan(pack([{ s: 'A' }, { p: 1 }, { s: 'B', p: NaN }]))).toBe(FrameStatus.Ok);
    expect(scanner.invalid).toBe(3);
    expect(scanner.scan(hex('c1'))).toBe(FrameStatus.BadFrame);
    const objs = [
      { s: 'A', p: 1 },
      { s: 'B', p: 2 },
      { s: 'C', p: 3 },
    ];
    const bytes = pack(objs);
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.invalid).toBe(0);
    objs.forEach((o, i) => expectTick(scanner, bytes, i, o));
    const single = pack({ s: 'Z', p: 9 });
    expect(scanner.scan(single)).toBe(FrameStatus.Ok);
    expect(scanner.isBatch).toBe(false);
    expect(scanner.count).toBe(1);
    expectTick(scanner, single, 0, { s: 'Z', p: 9 });
  });
});
