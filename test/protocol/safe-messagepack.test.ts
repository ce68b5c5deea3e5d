/**
 * isSafeMessagePack: the bounded pre-scan run on /stream control messages
 * before msgpackr sees them. Accepts one well-formed value without extension
 * types and with nesting of at most MAX_DEPTH levels; rejects everything
 * else quickly and without throwing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSafeMessagePack, MAX_DEPTH } from '../../src/protocol/tick-scanner.js';
import {
  array,
  bin8,
  f32,
  f64,
  hex,
  i64,
  map,
  mp,
  nil,
  pack,
  str,
  u64,
  unpack,
} from './helpers.js';

describe('isSafeMessagePack accepts', () => {
  it.each([
    ['subscribe', pack({ op: 'subscribe', symbols: ['AAPL', 'MSFT'], throttle: 100 })],
    ['ping with id', pack({ op: 'ping', id: { nested: [1, 'x', null] } })],
    ['since map', pack({ op: 'subscribe', symbols: ['*'], since: { AAPL: 5 } })],
    ['fixmap', map([['a', 1]])],
    ['map16', map([['a', 1]], 'map16')],
    ['map32', map([['a', 1]], 'map32')],
    ['array16', array([nil, nil], 'array16')],
    ['array32', array([nil], 'array32')],
    ['empty map', mp(0x80)],
    ['empty array', mp(0x90)],
    ['positive fixint', mp(0x7f)],
    ['negative fixint', mp(0xe0)],
    ['nil', nil],
    ['true', mp(0xc3)],
    ['false', mp(0xc2)],
    ['float32', f32(1.5)],
    ['float64', f64(-2.5)],
    ['uint8..uint64', array([mp(0xcc, 1), mp(0xcd, 0, 1), mp(0xce, 0, 0, 0, 1), u64(1)])],
    ['int8..int64', array([mp(0xd0, 0xff), mp(0xd1, 0, 1), mp(0xd2, 0, 0, 0, 1), i64(-1)])],
    [
      'fixstr/str8/str16/str32',
      array([str('a'), str('b', 'str8'), str('c', 'str16'), str('d', 'str32')]),
    ],
    ['bin8/bin16/bin32', array([bin8([1]), mp(0xc5, 0, 1, 2), mp(0xc6, 0, 0, 0, 1, 3)])],
    [
      'a tick batch',
      pack([
        { s: 'A', p: 1 },
        { s: 'B', p: 2, t: 2 ** 40 },
      ]),
    ],
  ])('%s', (_name, bytes) => {
    expect(isSafeMessagePack(bytes)).toBe(true);
  });

  it('accepts nesting of exactly MAX_DEPTH levels, also with an empty innermost container', () => {
    expect(isSafeMessagePack(nest(MAX_DEPTH, mp(0x01)))).toBe(true);
    expect(isSafeMessagePack(nest(MAX_DEPTH - 1, mp(0x90)))).toBe(true);
    expect(isSafeMessagePack(nest(MAX_DEPTH - 1, mp(0x80)))).toBe(true);
  });
});

/** `levels` nested fixarrays around `inner`. */
function nest(levels: number, inner: Uint8Array): Uint8Array {
  let v = inner;
  for (let i = 0; i < levels; i++) v = mp(0x91, v);
  return v;
}

describe('isSafeMessagePack rejects', () => {
  it.each([
    ['empty input', new Uint8Array(0)],
    ['0xc1 alone', mp(0xc1)],
    ['0xc1 inside a map', mp(0x81, 'op', 0xc1)],
    ['0xc1 inside an array', mp(0x92, 0x01, 0xc1)],
    ['fixext1', mp(0xd4, 1, 0)],
    ['fixext2', mp(0xd5, 1, 0, 0)],
    ['fixext4', mp(0xd6, 1, 0, 0, 0, 0)],
    ['fixext8', mp(0xd7, 1, new Uint8Array(8))],
    ['fixext16', mp(0xd8, 1, new Uint8Array(16))],
    ['ext8', mp(0xc7, 1, 1, 0)],
    ['ext16', mp(0xc8, 0, 1, 1, 0)],
    ['ext32', mp(0xc9, 0, 0, 0, 1, 1, 0)],
    ['msgpackr Date in a map', pack({ op: 'ping', id: new Date(0) })],
    ['msgpackr undefined in a map', pack({ op: 'ping', id: undefined })],
    ['trailing bytes', mp(0x80, 0x00)],
    ['two values', mp(0x01, 0x02)],
    ['nesting MAX_DEPTH + 1 around a scalar', nest(MAX_DEPTH + 1, mp(0x01))],
    ['nesting MAX_DEPTH + 1 with an empty innermost array', nest(MAX_DEPTH, mp(0x90))],
    ['nesting MAX_DEPTH + 1 with an empty innermost map', nest(MAX_DEPTH, mp(0x80))],
    [
      'deep maps',
      (() => {
        let v = mp(0x01);
        for (let i = 0; i < 20; i++) v = mp(0x81, 'k', v);
        return v;
      })(),
    ],
    ['array16 header cut', hex('dc 00')],
    ['array32 header cut', hex('dd 00 00 00')],
    ['map16 header cut', hex('de 00')],
    ['map32 header cut', hex('df 00 00')],
    ['array32 claiming 2^32-1', mp(0xdd, 0xff, 0xff, 0xff, 0xff, new Uint8Array(32))],
    ['map32 claiming 2^32-1', mp(0xdf, 0xff, 0xff, 0xff, 0xff, new Uint8Array(32))],
    ['map16 claiming more than present', mp(0xde, 0x00, 0x05, 0x01, 0x01)],
    ['fixmap with a missing value', mp(0x81, 0x01)],
    ['str8 header cut', hex('d9')],
    ['str16 header cut', hex('da 00')],
    ['str32 header cut', hex('db 00 00 00')],
    ['str32 length past end', mp(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)],
    ['fixstr past end', mp(0xa5, 0x61)],
    ['bin8 past end', mp(0xc4, 0x05, 0x00)],
    ['bin16 header cut', hex('c5 00')],
    ['bin32 length past end', mp(0xc6, 0xff, 0xff, 0xff, 0xff, 0x00)],
    ['float64 cut', hex('cb 00 00')],
    ['float32 cut', hex('ca 00')],
    ['uint64 cut', hex('cf 00')],
    ['int32 cut', hex('d2 00')],
    ['uint16 cut', hex('cd 00')],
    ['int8 cut', hex('d0')],
  ])('%s', (_name, bytes) => {
    expect(isSafeMessagePack(bytes)).toBe(false);
  });

  it('rejects truncations of a valid control message', () => {
    const full = pack({ op: 'subscribe', symbols: ['AAPL', 'MSFT'], since: { AAPL: 2 ** 40 } });
    expect(isSafeMessagePack(full)).toBe(true);
    for (let len = 0; len < full.length; len++) {
      expect(isSafeMessagePack(full.subarray(0, len))).toBe(false);
    }
  });

  it('rejects the array16-of-array16 bomb quickly', () => {
    for (const size of [3, 300, 3 * 30_000, 1 << 20]) {
      const bomb = new Uint8Array(size);
      for (let i = 0; i + 2 < size; i += 3) bomb.set([0xdc, 0xff, 0xff], i);
      const t0 = performance.now();
      expect(isSafeMessagePack(bomb)).toBe(false);
      expect(isSafeMessagePack(mp(0x81, 'op', bomb))).toBe(false);
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });

  it('rejects wide-but-valid-looking containers in linear time', () => {
    // 16 KiB of 1-element arrays nested within the limit, then repeated.
    const unit = nest(MAX_DEPTH - 1, mp(0x01));
    const count = Math.floor(16384 / unit.length);
    const ok = mp(0xdc, count >> 8, count & 0xff, ...Array.from({ length: count }, () => unit));
    const t0 = performance.now();
    expect(isSafeMessagePack(ok)).toBe(true);
    expect(isSafeMessagePack(ok.subarray(0, ok.length - 1))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('isSafeMessagePack on random input', () => {
  it('never throws, and whatever it accepts msgpackr decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        if (isSafeMessagePack(bytes)) expect(() => unpack(bytes)).not.toThrow();
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts whatever msgpackr encodes from plain JSON data', () => {
    fc.assert(
      fc.property(fc.jsonValue({ depthSize: 'small', maxDepth: 5 }), (v) => {
        expect(isSafeMessagePack(pack(v))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
