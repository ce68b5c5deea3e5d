/**
 * Each TickFault with a minimal example: the frame stays Ok, the tick is
 * invalid with that code; in a batch only the bad indices are faulted.
 */
import { describe, expect, it } from 'vitest';
import {
  array,
  bin8,
  f32,
  f64,
  faultOf,
  FrameStatus,
  i64,
  i8,
  map,
  mp,
  nil,
  pack,
  scan,
  str,
  tick,
  TickFault,
  TickScanner,
  u64,
  type Part,
} from './helpers.js';

const T = TickFault;

/** A tick {s:"AAPL", p:189.5} with one key replaced or added. */
const withKey = (k: Part, v: Part) => tick([[k, v]]);
/** {s: v, p: 1}. */
const withSymbol = (v: Part) =>
  map([
    ['s', v],
    ['p', 1],
  ]);
/** {s: "A", p: v}. */
const withPrice = (v: Part) =>
  map([
    ['s', 'A'],
    ['p', v],
  ]);

type Case = readonly [string, Uint8Array, number];

const CASES: Case[] = [
  // Structure
  ['TooManyKeys: 65 keys', pack(manyKeys(65)), T.TooManyKeys],
  ['TooManyKeys: map16 of 100 keys', pack(manyKeys(100)), T.TooManyKeys],
  ['NonStringKey: int key', withKey(1, 1), T.NonStringKey],
  ['NonStringKey: nil key', withKey(nil, 1), T.NonStringKey],
  ['NonStringKey: bin key', withKey(bin8([0x78]), 1), T.NonStringKey],
  ['NonStringKey: array key', withKey(mp(0x91, 0x01), 1), T.NonStringKey],
  ['NonStringKey: map key', withKey(map([['x', 1]]), 1), T.NonStringKey],
  ['NonStringKey: ext key', withKey(mp(0xd4, 0x01, 0x00), 1), T.NonStringKey],
  [
    'NonStringKey: first key',
    map([
      [5, 1],
      ['s', 'A'],
      ['p', 1],
    ]),
    T.NonStringKey,
  ],
  ['KeyTooLong: 257 bytes', withKey('k'.repeat(257), 1), T.KeyTooLong],
  ['BadUtf8: one-byte key 0x80', withKey(str(Uint8Array.of(0x80)), 1), T.BadUtf8],
  ['BadUtf8: one-byte key 0xff', withKey(str(Uint8Array.of(0xff)), 1), T.BadUtf8],
  ['BadUtf8: key with lone continuation', withKey(str(Uint8Array.of(0x61, 0x80)), 1), T.BadUtf8],
  ['BadUtf8: key with surrogate', withKey(str(Uint8Array.of(0xed, 0xa0, 0x80)), 1), T.BadUtf8],
  ['BadUtf8: key overlong', withKey(str(Uint8Array.of(0xc0, 0xaf)), 1), T.BadUtf8],
  ['BadUtf8: value', withKey('x', str(Uint8Array.of(0x61, 0xc3))), T.BadUtf8],
  ['BadUtf8: value overlong', withKey('x', str(Uint8Array.of(0xe0, 0x80, 0xaf))), T.BadUtf8],
  [
    'BadUtf8: value > U+10FFFF',
    withKey('x', str(Uint8Array.of(0xf4, 0x90, 0x80, 0x80))),
    T.BadUtf8,
  ],
  [
    'DuplicateKey: s twice',
    map([
      ['s', 'A'],
      ['p', 1],
      ['s', 'A'],
    ]),
    T.DuplicateKey,
  ],
  [
    'DuplicateKey: s twice, second bad',
    map([
      ['s', 'A'],
      ['p', 1],
      ['s', 'a b'],
    ]),
    T.DuplicateKey,
  ],
  [
    'DuplicateKey: p twice',
    map([
      ['s', 'A'],
      ['p', 1],
      ['p', 2],
    ]),
    T.DuplicateKey,
  ],
  [
    'DuplicateKey: extra key twice',
    tick([
      ['x', 1],
      ['x', 1],
    ]),
    T.DuplicateKey,
  ],
  [
    'DuplicateKey: same hash key twice',
    tick([
      ['k4uzx', 1],
      ['k4uzx', 2],
    ]),
    T.DuplicateKey,
  ],
  [
    'DuplicateKey: fixstr and str8 forms',
    tick([
      ['xy', 1],
      [str('xy', 'str8'), 2],
    ]),
    T.DuplicateKey,
  ],
  [
    'DuplicateKey: empty key twice',
    tick([
      ['', 1],
      ['', 2],
    ]),
    T.DuplicateKey,
  ],
  ['ForbiddenKey: __proto__ (hand bytes)', withKey('__proto__', 1), T.ForbiddenKey],
  [
    'ForbiddenKey: __proto__ (msgpackr)',
    pack(JSON.parse('{"s":"A","p":1,"__proto__":1}')),
    T.ForbiddenKey,
  ],
  ['ForbiddenKey: constructor', pack({ s: 'A', p: 1, constructor: 1 }), T.ForbiddenKey],
  ['ForbiddenKey: prototype', pack({ s: 'A', p: 1, prototype: 'x' }), T.ForbiddenKey],
  ['ReservedKey: n', pack({ s: 'A', p: 1, n: 1 }), T.ReservedKey],
  ['ReservedKey: r', pack({ s: 'A', p: 1, r: 1700000000000000 }), T.ReservedKey],
  // Symbol
  ['BadSymbol: empty', withSymbol(''), T.BadSymbol],
  ['BadSymbol: 33 bytes', withSymbol('S'.repeat(33)), T.BadSymbol],
  ['BadSymbol: space', withSymbol('A B'), T.BadSymbol],
  ['BadSymbol: non-ASCII', withSymbol('ÄPPL'), T.BadSymbol],
  ['BadSymbol: invalid UTF-8', withSymbol(str(Uint8Array.of(0xff))), T.BadSymbol],
  ['BadSymbol: "*"', withSymbol('*'), T.BadSymbol],
  ['BadSymbol: comma', withSymbol('A,B'), T.BadSymbol],
  ['BadSymbol: int', withSymbol(1), T.BadSymbol],
  ['BadSymbol: nil', withSymbol(nil), T.BadSymbol],
  ['BadSymbol: bool', withSymbol(0xc3), T.BadSymbol],
  ['BadSymbol: float', withSymbol(f64(1)), T.BadSymbol],
  ['BadSymbol: bin', withSymbol(bin8([0x41])), T.BadSymbol],
  ['BadSymbol: ext', withSymbol(mp(0xd4, 0x01, 0x41)), T.BadSymbol],
  // Numbers
  ['BadPrice: NaN', pack({ s: 'A', p: NaN }), T.BadPrice],
  ['BadPrice: Infinity', pack({ s: 'A', p: Infinity }), T.BadPrice],
  ['BadPrice: -Infinity', pack({ s: 'A', p: -Infinity }), T.BadPrice],
  ['BadPrice: float32 NaN', withPrice(f32(NaN)), T.BadPrice],
  ['BadPrice: float32 Infinity', withPrice(f32(Infinity)), T.BadPrice],
  ['BadPrice: string', pack({ s: 'A', p: '189.5' }), T.BadPrice],
  ['BadPrice: nil', pack({ s: 'A', p: null }), T.BadPrice],
  ['BadPrice: bool', pack({ s: 'A', p: true }), T.BadPrice],
  ['BadPrice: bin', withPrice(bin8([1])), T.BadPrice],
  ['BadPrice: ext', withPrice(mp(0xd4, 0x01, 0x01)), T.BadPrice],
  ['BadSize: negative', pack({ s: 'A', p: 1, q: -1 }), T.BadSize],
  ['BadSize: negative float', pack({ s: 'A', p: 1, q: -0.5 }), T.BadSize],
  ['BadSize: negative int8', tick([['q', i8(-3)]]), T.BadSize],
  ['BadSize: negative int64', tick([['q', i64(-(2 ** 40))]]), T.BadSize],
  ['BadSize: NaN', pack({ s: 'A', p: 1, q: NaN }), T.BadSize],
  ['BadSize: Infinity', pack({ s: 'A', p: 1, q: Infinity }), T.BadSize],
  ['BadSize: string', pack({ s: 'A', p: 1, q: '1' }), T.BadSize],
  ['BadSize: nil', pack({ s: 'A', p: 1, q: null }), T.BadSize],
  ['BadBid: NaN', pack({ s: 'A', p: 1, b: NaN }), T.BadBid],
  ['BadBid: string', pack({ s: 'A', p: 1, b: 'x' }), T.BadBid],
  ['BadBid: nil', pack({ s: 'A', p: 1, b: null }), T.BadBid],
  ['BadAsk: Infinity', pack({ s: 'A', p: 1, a: Infinity }), T.BadAsk],
  ['BadAsk: bool', pack({ s: 'A', p: 1, a: false }), T.BadAsk],
  ['BadAsk: string', pack({ s: 'A', p: 1, a: '2' }), T.BadAsk],
  ['BadTime: negative', pack({ s: 'A', p: 1, t: -1 }), T.BadTime],
  ['BadTime: negative int64', tick([['t', i64(-(2 ** 40))]]), T.BadTime],
  ['BadTime: negative float', tick([['t', f64(-2)]]), T.BadTime],
  ['BadTime: 1.5', pack({ s: 'A', p: 1, t: 1.5 }), T.BadTime],
  ['BadTime: float32 0.5', tick([['t', f32(0.5)]]), T.BadTime],
  ['BadTime: NaN', pack({ s: 'A', p: 1, t: NaN }), T.BadTime],
  ['BadTime: Infinity', pack({ s: 'A', p: 1, t: Infinity }), T.BadTime],
  ['BadTime: float above 2^53', tick([['t', f64(2 ** 53 + 2)]]), T.BadTime],
  ['BadTime: string', pack({ s: 'A', p: 1, t: '1700000000000000' }), T.BadTime],
  ['BadTime: nil', pack({ s: 'A', p: 1, t: null }), T.BadTime],
  ['BadTime: bool', pack({ s: 'A', p: 1, t: true }), T.BadTime],
  // Values
  ['NestedValue: map', pack({ s: 'A', p: 1, x: { y: 1 } }), T.NestedValue],
  ['NestedValue: array', pack({ s: 'A', p: 1, x: [1, 2] }), T.NestedValue],
  ['NestedValue: empty map', withKey('x', 0x80), T.NestedValue],
  ['NestedValue: empty array', withKey('x', 0x90), T.NestedValue],
  ['NestedValue: array16', withKey('x', mp(0xdc, 0, 1, 1)), T.NestedValue],
  ['NestedValue: array32', withKey('x', mp(0xdd, 0, 0, 0, 1, 1)), T.NestedValue],
  ['NestedValue: map16', withKey('x', mp(0xde, 0, 1, 'k', 1)), T.NestedValue],
  ['NestedValue: map32', withKey('x', mp(0xdf, 0, 0, 0, 1, 'k', 1)), T.NestedValue],
  ['NestedValue: as p', pack({ s: 'A', p: [1] }), T.NestedValue],
  ['NestedValue: as s', pack({ s: { x: 'A' }, p: 1 }), T.NestedValue],
  ['ExtensionValue: fixext1', withKey('x', mp(0xd4, 0x01, 0x00)), T.ExtensionValue],
  ['ExtensionValue: fixext2', withKey('x', mp(0xd5, 0x01, 0, 0)), T.ExtensionValue],
  ['ExtensionValue: fixext4', withKey('x', mp(0xd6, 0x01, 0, 0, 0, 0)), T.ExtensionValue],
  ['ExtensionValue: fixext8', withKey('x', mp(0xd7, 0x01, new Uint8Array(8))), T.ExtensionValue],
  ['ExtensionValue: fixext16', withKey('x', mp(0xd8, 0x01, new Uint8Array(16))), T.ExtensionValue],
  ['ExtensionValue: ext8', withKey('x', mp(0xc7, 2, 0x05, 0xaa, 0xbb)), T.ExtensionValue],
  ['ExtensionValue: ext16', withKey('x', mp(0xc8, 0, 1, 0x05, 0xaa)), T.ExtensionValue],
  ['ExtensionValue: ext32', withKey('x', mp(0xc9, 0, 0, 0, 0, 0x05)), T.ExtensionValue],
  ['ExtensionValue: msgpackr Date', pack({ s: 'A', p: 1, d: new Date(0) }), T.ExtensionValue],
  [
    'ExtensionValue: msgpackr Date ms',
    pack({ s: 'A', p: 1, d: new Date(1700000000123) }),
    T.ExtensionValue,
  ],
  ['ExtensionValue: msgpackr undefined', pack({ s: 'A', p: 1, u: undefined }), T.ExtensionValue],
  ['BinaryValue: bin8', withKey('x', bin8([1, 2, 3])), T.BinaryValue],
  ['BinaryValue: bin16', withKey('x', mp(0xc5, 0, 2, 1, 2)), T.BinaryValue],
  ['BinaryValue: bin32', withKey('x', mp(0xc6, 0, 0, 0, 1, 1)), T.BinaryValue],
  [
    'BinaryValue: msgpackr Uint8Array',
    pack({ s: 'A', p: 1, x: new Uint8Array([1]) }),
    T.BinaryValue,
  ],
  ['StringTooLong: 257 bytes', pack({ s: 'A', p: 1, x: 'v'.repeat(257) }), T.StringTooLong],
  ['StringTooLong: 257 bytes str32', withKey('x', str('v'.repeat(257), 'str32')), T.StringTooLong],
  ['StringTooLong: multibyte', pack({ s: 'A', p: 1, x: 'é'.repeat(129) }), T.StringTooLong],
  // Required keys
  ['MissingSymbol', pack({ p: 1 }), T.MissingSymbol],
  ['MissingSymbol: empty map', mp(0x80), T.MissingSymbol],
  ['MissingSymbol: S uppercase', pack({ S: 'A', p: 1 }), T.MissingSymbol],
  ['MissingPrice', pack({ s: 'A' }), T.MissingPrice],
  ['MissingPrice: only extras', pack({ s: 'A', price: 1, q: 1, b: 1, a: 1, t: 1 }), T.MissingPrice],
];

function manyKeys(n: number): Record<string, unknown> {
  const o: Record<string, unknown> = { s: 'A', p: 1 };
  for (let i = 0; Object.keys(o).length < n; i++) o[`k${i}`] = i;
  return o;
}

describe('tick faults (single map)', () => {
  it.each(CASES)('%s', (_name, bytes, fault) => {
    const scanner = new TickScanner();
    expect(scanner.scan(bytes)).toBe(FrameStatus.Ok);
    expect(scanner.count).toBe(1);
    expect(scanner.invalid).toBe(1);
    expect(scanner.fault[0]).toBe(fault);
    expect(scanner.start[0]).toBe(0);
    expect(scanner.end[0]).toBe(bytes.length);
  });
});

describe('tick faults in a batch', () => {
  const good = (i: number) => pack({ s: `G${i}`, p: i });

  it('faults only the bad indices', () => {
    // Every case at an odd index, good ticks in between.
    const elements: Uint8Array[] = [];
    const expected: number[] = [];
    CASES.forEach(([, bytes, fault], i) => {
      elements.push(good(i), bytes);
      expected.push(T.None, fault);
    });
    const frame = array(elements);
    const { status, scanner, faults } = scan(frame);
    expect(status).toBe(FrameStatus.Ok);
    expect(scanner.isBatch).toBe(true);
    expect(scanner.count).toBe(elements.length);
    expect(faults).toEqual(expected);
    expect(scanner.invalid).toBe(CASES.length);
    let off = frame.length - elements.reduce((n, e) => n + e.length, 0);
    elements.forEach((e, i) => {
      expect(scanner.start[i]).toBe(off);
      off += e.length;
      expect(scanner.end[i]).toBe(off);
    });
  });

  it('makes every non-map element NotAMap', () => {
    const nonMaps: Uint8Array[] = [
      mp(0x01),
      mp(0xff),
      nil,
      mp(0xc2),
      f64(1),
      u64(1),
      str('AAPL'),
      bin8([1]),
      mp(0xd4, 1, 1),
      mp(0x90),
      pack([{ s: 'A', p: 1 }]),
      mp(0xdc, 0, 1, 0x80),
      mp(0xdd, 0, 0, 0, 0),
    ];
    const frame = array([good(0), ...nonMaps, good(1)]);
    const { status, scanner, faults } = scan(frame);
    expect(status).toBe(FrameStatus.Ok);
    expect(faults).toEqual([T.None, ...nonMaps.map(() => T.NotAMap), T.None]);
    expect(scanner.invalid).toBe(nonMaps.length);
    expect(scanner.end[nonMaps.length + 1]).toBe(frame.length);
  });

  it('resets the fault of a non-map element left over from an earlier frame', () => {
    const scanner = new TickScanner();
    expect(
      scanner.scan(
        pack([
          { s: 'A', p: 1 },
          { s: 'B', p: NaN },
        ]),
      ),
    ).toBe(FrameStatus.Ok);
    expect(scanner.fault[1]).toBe(T.BadPrice);
    // The pipeline may also write SymbolTableFull into fault[] between scans.
    scanner.fault[2] = T.SymbolTableFull;
    expect(scanner.scan(array([good(0), mp(0x07), nil]))).toBe(FrameStatus.Ok);
    expect(Array.from(scanner.fault.subarray(0, 3))).toEqual([T.None, T.NotAMap, T.NotAMap]);
    expect(scanner.invalid).toBe(2);
  });

  it('reports each tick in a batch of bad ticks', () => {
    const bytes = pack([{ s: 'A' }, { p: 1 }, { s: 'A', p: 1, n: 1 }, { s: 'A', p: 1 }]);
    const { status, scanner, faults } = scan(bytes);
    expect(status).toBe(FrameStatus.Ok);
    expect(faults).toEqual([T.MissingPrice, T.MissingSymbol, T.ReservedKey, T.None]);
    expect(scanner.invalid).toBe(3);
  });
});

describe('faultOf helper sanity', () => {
  it('returns None for a valid tick', () => {
    expect(faultOf(tick())).toBe(T.None);
  });
});
