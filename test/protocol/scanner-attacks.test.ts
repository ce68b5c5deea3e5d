/**
 * Known attack shapes against the tick scanner, as properties (fast-check)
 * rather than the fixed cases of tick-scanner.hostile/invalid.test.ts:
 * hostile length claims at any position, extreme nesting (no stack
 * overflow), extension types in every role, forbidden keys in every string
 * form, every NaN/Infinity bit pattern, overlong symbols in every form,
 * batches past 4096, every truncation of random valid frames. Also: the
 * scanner never throws, never grows its preset result arrays, and does not
 * retain memory across 10,000 hostile scans.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH, MAX_SYMBOL_BYTES } from '../../src/protocol/codes.js';
import {
  type Part,
  type StrForm,
  array,
  arrayHeader,
  f32,
  f64,
  FrameStatus,
  map,
  mp,
  pack,
  str,
  TickFault,
  TickScanner,
} from './helpers.js';

const scanner = new TickScanner();

/** Scans, turning a throw into a test failure that shows the bytes. */
function scanSafely(bytes: Uint8Array, length?: number): FrameStatus {
  try {
    return scanner.scan(bytes, length);
  } catch (e) {
    throw new Error(
      `scan threw on ${Buffer.from(bytes).toString('hex').slice(0, 200)}: ${String(e)}`,
    );
  }
}

/** Fault of the only tick of a frame that must itself be Ok. */
function singleFault(bytes: Uint8Array): number {
  expect(scanSafely(bytes)).toBe(FrameStatus.Ok);
  expect(scanner.count).toBe(1);
  return scanner.fault[0]!;
}

const STR_FORMS: readonly StrForm[] = ['fix', 'str8', 'str16', 'str32'];
const strForm = fc.constantFrom(...STR_FORMS);

/** A valid symbol. */
const symbol = fc
  .array(fc.constantFrom(...'ABCZabz019._:/-'.split('')), { minLength: 1, maxLength: 32 })
  .map((cs) => cs.join(''));

/** Extra key/value entries that are valid in a tick (keys never clash with s p q b a t n r). */
const extraEntries = fc.uniqueArray(
  fc.tuple(
    fc.constantFrom('x', 'note', 'venue', 'k1', 'k2', 'id', 'flag'),
    fc.oneof(
      fc.constant<Part>(0xc0),
      fc.integer({ min: 0, max: 127 }).map((n): Part => n),
      fc.string({ maxLength: 8 }).map((s): Part => str(s)),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d): Part => f64(d)),
    ),
  ),
  { selector: ([k]) => k, maxLength: 4 },
);

/** Entries of a valid tick as [key, encoded value], shuffled with the extras. */
const validEntries: fc.Arbitrary<[Part, Part][]> = fc
  .tuple(symbol, fc.double({ noNaN: true, noDefaultInfinity: true }), extraEntries)
  .chain(([s, p, extra]) =>
    fc.shuffledSubarray([['s', str(s)] as [Part, Part], ['p', f64(p)] as [Part, Part], ...extra], {
      minLength: 2 + extra.length,
    }),
  );

/** Builds a tick from entries, replacing the value at `at` (mod length) if given. */
function tickWith(entries: readonly [Part, Part][], replace?: { at: number; value: Part }) {
  const e = entries.map(([k, v]) => [k, v] as [Part, Part]);
  if (replace !== undefined) e[replace.at % e.length]![1] = replace.value;
  return map(e);
}

/** Hostile headers: a length or count claim far past any real frame. */
const hugeClaims: readonly [string, Uint8Array][] = [
  ['str32 2^32-1', mp(0xdb, 0xff, 0xff, 0xff, 0xff)],
  ['str16 65535', mp(0xda, 0xff, 0xff)],
  ['bin32 2^32-1', mp(0xc6, 0xff, 0xff, 0xff, 0xff)],
  ['bin16 65535', mp(0xc5, 0xff, 0xff)],
  ['array32 2^32-1', mp(0xdd, 0xff, 0xff, 0xff, 0xff)],
  ['array32 2^31', mp(0xdd, 0x80, 0x00, 0x00, 0x00)],
  ['array16 65535', mp(0xdc, 0xff, 0xff)],
  ['map32 2^32-1', mp(0xdf, 0xff, 0xff, 0xff, 0xff)],
  ['map32 2^31', mp(0xdf, 0x80, 0x00, 0x00, 0x00)],
  ['map16 65535', mp(0xde, 0xff, 0xff)],
  ['ext32 2^32-1', mp(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01)],
  ['ext16 65535', mp(0xc8, 0xff, 0xff, 0x01)],
];

describe('huge declared lengths at any position', () => {
  it('as any value of a tick, single or batched: BadFrame, never throws', () => {
    fc.assert(
      fc.property(
        validEntries,
        fc.nat(),
        fc.constantFrom(...hugeClaims),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        (entries, at, [, claim], tail, batched) => {
          // The tail stands for "some bytes follow", far fewer than claimed.
          const t = tickWith(entries, { at, value: mp(claim, tail) });
          const frame = batched ? array([pack({ s: 'A', p: 1 }), t]) : t;
          expect(scanSafely(frame)).toBe(FrameStatus.BadFrame);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('as a key, a batch element, or inside a nested value: BadFrame', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...hugeClaims),
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom('key', 'element', 'nested', 'top'),
        ([, claim], tail, where) => {
          const bad = mp(claim, tail);
          const frame =
            where === 'key'
              ? mp(0x83, 's', 'A', 'p', 1, bad)
              : where === 'element'
                ? mp(0x92, pack({ s: 'A', p: 1 }), bad)
                : where === 'nested'
                  ? mp(0x83, 's', 'A', 'p', 1, 'x', 0x92, 0x01, bad)
                  : bad;
          const status = scanSafely(frame);
          // A top-level array claim with enough bytes could be TooLarge; none has them.
          expect(status).toBe(FrameStatus.BadFrame);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('claims are checked against the bytes left, not trusted (1 MiB frame of str32 claims)', () => {
    const claim = mp(0xdb, 0x7f, 0xff, 0xff, 0xff);
    const body = new Uint8Array(1 << 20);
    for (let i = 0; i + claim.length <= body.length; i += claim.length) body.set(claim, i);
    expect(scanSafely(mp(0x83, 's', 'A', 'p', 1, 'x', body))).toBe(FrameStatus.BadFrame);
    expect(scanSafely(mp(0x81, body))).toBe(FrameStatus.BadFrame);
  });
});

/** A random container header (each claiming one element/entry) of any form. */
const oneItemHeader = fc.constantFrom<readonly number[]>(
  [0x91],
  [0xdc, 0x00, 0x01],
  [0xdd, 0x00, 0x00, 0x00, 0x01],
  [0x81, 0xa1, 0x6b],
  [0xde, 0x00, 0x01, 0xa1, 0x6b],
  [0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 0x6b],
);

describe('deep nesting', () => {
  it('mixed container headers nested 9 to 3000 deep anywhere: BadFrame, no stack overflow', () => {
    fc.assert(
      fc.property(
        fc.array(oneItemHeader, { minLength: 9, maxLength: 3000 }),
        fc.constantFrom('value', 'key', 'element', 'top'),
        (headers, where) => {
          const nest = mp(...headers.map((h) => Uint8Array.from(h)), 0x01);
          const frame =
            where === 'value'
              ? mp(0x83, 's', 'A', 'p', 1, 'x', nest)
              : where === 'key'
                ? mp(0x83, 's', 'A', 'p', 1, nest, 0x01)
                : where === 'element'
                  ? mp(0x92, pack({ s: 'A', p: 1 }), nest)
                  : nest;
          expect(scanSafely(frame)).toBe(FrameStatus.BadFrame);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a million levels (1 MiB of 0x91, or of {"k": …}) is BadFrame without a RangeError', () => {
    const arrays = new Uint8Array(1 << 20).fill(0x91);
    arrays[arrays.length - 1] = 0x01;
    expect(scanSafely(arrays)).toBe(FrameStatus.BadFrame);
    expect(scanSafely(mp(0x83, 's', 'A', 'p', 1, 'x', arrays))).toBe(FrameStatus.BadFrame);
    const maps = new Uint8Array(3 * 350_000);
    for (let i = 0; i < maps.length; i += 3) maps.set([0x81, 0xa1, 0x6b], i);
    expect(scanSafely(mp(maps, 0x01))).toBe(FrameStatus.BadFrame);
    expect(scanSafely(mp(0x91, maps, 0x01))).toBe(FrameStatus.BadFrame);
  });
});

/** Every extension encoding, with a random type byte (including -1, the timestamp type). */
const extValue = fc
  .tuple(
    fc.constantFrom(
      'fixext1',
      'fixext2',
      'fixext4',
      'fixext8',
      'fixext16',
      'ext8',
      'ext16',
      'ext32',
    ),
    fc.integer({ min: 0, max: 255 }),
    fc.uint8Array({ maxLength: 20 }),
  )
  .map(([form, type, data]): Uint8Array => {
    const fixed: Record<string, [number, number]> = {
      fixext1: [0xd4, 1],
      fixext2: [0xd5, 2],
      fixext4: [0xd6, 4],
      fixext8: [0xd7, 8],
      fixext16: [0xd8, 16],
    };
    const f = fixed[form];
    if (f !== undefined) {
      const body = new Uint8Array(f[1]);
      body.set(data.subarray(0, f[1]));
      return mp(f[0], type, body);
    }
    const n = data.length;
    if (form === 'ext8') return mp(0xc7, n, type, data);
    if (form === 'ext16') return mp(0xc8, n >> 8, n & 0xff, type, data);
    return mp(0xc9, 0, 0, n >> 8, n & 0xff, type, data);
  });

describe('extension types in every role', () => {
  const roleFault: [string, number][] = [
    ['s', TickFault.BadSymbol],
    ['p', TickFault.BadPrice],
    ['q', TickFault.BadSize],
    ['b', TickFault.BadBid],
    ['a', TickFault.BadAsk],
    ['t', TickFault.BadTime],
    ['x', TickFault.ExtensionValue],
    ['note', TickFault.ExtensionValue],
  ];

  it('as the value of each key: that key’s fault; as a key: NonStringKey', () => {
    fc.assert(
      fc.property(extValue, fc.constantFrom(...roleFault), (ext, [key, fault]) => {
        const entries: [Part, Part][] = [
          ['s', 'A'],
          ['p', 1],
        ];
        if (key === 's' || key === 'p') entries.find(([k]) => k === key)![1] = ext;
        else entries.push([key, ext]);
        expect(singleFault(map(entries))).toBe(fault);
        expect(
          singleFault(
            map([
              ['s', 'A'],
              ['p', 1],
              [ext, 1],
            ]),
          ),
        ).toBe(TickFault.NonStringKey);
      }),
      { numRuns: 400 },
    );
  });

  it('as a batch element: NotAMap for it alone; top level: BadFrame; cut short: BadFrame', () => {
    fc.assert(
      fc.property(extValue, fc.nat(5), (ext, pos) => {
        const good = pack({ s: 'A', p: 1 });
        const els = [good, good, good, good, good];
        els.splice(pos, 0, ext);
        expect(scanSafely(array(els))).toBe(FrameStatus.Ok);
        const faults = Array.from(scanner.fault.subarray(0, scanner.count));
        expect(faults).toEqual(els.map((_, i) => (i === pos ? TickFault.NotAMap : TickFault.None)));
        expect(scanSafely(ext)).toBe(FrameStatus.BadFrame);
        const cut = map([
          ['s', 'A'],
          ['p', 1],
          ['x', ext.subarray(0, ext.length - 1)],
        ]);
        expect(scanSafely(cut)).toBe(FrameStatus.BadFrame);
      }),
      { numRuns: 300 },
    );
  });

  it('inside a nested value: NestedValue (the container is the fault)', () => {
    fc.assert(
      fc.property(extValue, (ext) => {
        expect(
          singleFault(
            map([
              ['s', 'A'],
              ['p', 1],
              ['x', mp(0x92, 0x01, ext)],
            ]),
          ),
        ).toBe(TickFault.NestedValue);
      }),
      { numRuns: 100 },
    );
  });
});

describe('__proto__, constructor, prototype keys', () => {
  const forbidden = fc.constantFrom('__proto__', 'constructor', 'prototype');

  it('in any str form, at any position, in any batch slot: ForbiddenKey for that tick only', () => {
    fc.assert(
      fc.property(
        validEntries,
        forbidden,
        strForm,
        fc.nat(),
        fc.nat(4),
        (entries, key, form, at, slot) => {
          const e = [...entries];
          e.splice(at % (e.length + 1), 0, [str(key, form), 0x01]);
          const bad = map(e);
          expect(singleFault(bad)).toBe(TickFault.ForbiddenKey);
          const els = Array.from({ length: 4 }, (_, i) => pack({ s: `S${i}`, p: i }));
          els.splice(slot, 0, bad);
          expect(scanSafely(array(els))).toBe(FrameStatus.Ok);
          expect(scanner.invalid).toBe(1);
          expect(scanner.fault[slot]).toBe(TickFault.ForbiddenKey);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('near misses are ordinary keys', () => {
    for (const key of [
      '__proto_',
      '__proto__x',
      '_proto__',
      '__PROTO__',
      'Constructor',
      'prototypes',
      'constructo',
      '__proto\u005f\u005f\u005f',
    ]) {
      expect(
        singleFault(
          map([
            ['s', 'A'],
            ['p', 1],
            [key, 1],
          ]),
        ),
      ).toBe(TickFault.None);
    }
  });

  it('a forbidden key with a trailing NUL or a non-ASCII twin is not forbidden (bytes compared exactly)', () => {
    expect(
      singleFault(
        map([
          ['s', 'A'],
          ['p', 1],
          ['__proto__\0', 1],
        ]),
      ),
    ).toBe(TickFault.None);
    expect(
      singleFault(
        map([
          ['s', 'A'],
          ['p', 1],
          ['__prοto__', 1],
        ]),
      ),
    ).toBe(TickFault.None); // Greek omicron
  });

  it('scanning them pollutes nothing (the scanner builds no objects)', () => {
    scanSafely(
      map([
        ['s', 'A'],
        ['p', 1],
        ['__proto__', map([['polluted', 1]])],
      ]),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

/** Encodes raw float bits (big-endian) as float64/float32 MessagePack. */
const f64Bits = (hi: number, lo: number): Uint8Array => {
  const b = new Uint8Array(9);
  b[0] = 0xcb;
  const dv = new DataView(b.buffer);
  dv.setUint32(1, hi >>> 0);
  dv.setUint32(5, lo >>> 0);
  return b;
};
const f32Bits = (bits: number): Uint8Array => {
  const b = new Uint8Array(5);
  b[0] = 0xca;
  new DataView(b.buffer).setUint32(1, bits >>> 0);
  return b;
};
const decode = (enc: Uint8Array): number => {
  const dv = new DataView(enc.buffer, enc.byteOffset + 1);
  return enc[0] === 0xcb ? dv.getFloat64(0) : dv.getFloat32(0);
};

/** Random float encodings, biased towards all-ones exponents (NaN payloads, ±Infinity). */
const floatEncoding = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }))
    .map(([hi, lo]) => f64Bits(hi, lo)),
  fc
    .tuple(
      fc.boolean(),
      fc.integer({ min: 0, max: 0xfffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
    )
    .map(([neg, mant, lo]) => f64Bits((neg ? 0x80000000 : 0) | 0x7ff00000 | mant, lo)),
  fc.integer({ min: 0, max: 0xffffffff }).map(f32Bits),
  fc
    .tuple(fc.boolean(), fc.integer({ min: 0, max: 0x7fffff }))
    .map(([neg, mant]) => f32Bits((neg ? 0x80000000 : 0) | 0x7f800000 | mant)),
);

describe('NaN and Infinity in every bit pattern', () => {
  it('p, b, a: valid exactly when finite; q also needs ≥ 0; t an integer in 0…2^53', () => {
    fc.assert(
      fc.property(floatEncoding, (enc) => {
        const x = decode(enc);
        const finite = Number.isFinite(x);
        const tick = (k: string): Uint8Array =>
          k === 'p'
            ? map([
                ['s', 'A'],
                ['p', enc],
              ])
            : map([
                ['s', 'A'],
                ['p', 1],
                [k, enc],
              ]);
        expect(singleFault(tick('p'))).toBe(finite ? TickFault.None : TickFault.BadPrice);
        expect(singleFault(tick('b'))).toBe(finite ? TickFault.None : TickFault.BadBid);
        expect(singleFault(tick('a'))).toBe(finite ? TickFault.None : TickFault.BadAsk);
        expect(singleFault(tick('q'))).toBe(finite && x >= 0 ? TickFault.None : TickFault.BadSize);
        expect(singleFault(tick('t'))).toBe(
          Number.isInteger(x) && x >= 0 && x <= 2 ** 53 ? TickFault.None : TickFault.BadTime,
        );
        // Any other key forwards any float, NaN included.
        expect(singleFault(tick('x'))).toBe(TickFault.None);
      }),
      { numRuns: 2000 },
    );
  });

  it('signalling NaN, negative NaN and NaN with payload bits are all BadPrice', () => {
    for (const enc of [
      f64Bits(0x7ff00000, 1), // signalling NaN
      f64Bits(0xfff80000, 0), // negative quiet NaN
      f64Bits(0x7fffffff, 0xffffffff), // all payload bits
      f32Bits(0x7f800001),
      f32Bits(0xffc00000),
      f64Bits(0xfff00000, 0), // -Infinity
      f32Bits(0xff800000),
      f64(-Infinity),
      f32(-Infinity),
    ]) {
      expect(
        singleFault(
          map([
            ['s', 'A'],
            ['p', enc],
          ]),
        ),
      ).toBe(TickFault.BadPrice);
    }
  });
});

describe('overlong symbols', () => {
  it('in every str form: BadSymbol exactly when empty or over 32 bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), strForm, (len, form) => {
        if ((form === 'fix' && len > 31) || (form === 'str8' && len > 255)) return;
        const s = 'S'.repeat(len);
        const fault = singleFault(
          map([
            ['s', str(s, form)],
            ['p', 1],
          ]),
        );
        expect(fault).toBe(
          len >= 1 && len <= MAX_SYMBOL_BYTES ? TickFault.None : TickFault.BadSymbol,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a 64 KiB symbol (str16) and a 1 MiB one (str32) are BadSymbol, in a batch too', () => {
    const s16 = str('S'.repeat(65535), 'str16');
    const s32 = str('S'.repeat(1 << 20), 'str32');
    for (const s of [s16, s32]) {
      expect(
        singleFault(
          map([
            ['s', s],
            ['p', 1],
          ]),
        ),
      ).toBe(TickFault.BadSymbol);
      expect(
        scanSafely(
          array([
            pack({ s: 'A', p: 1 }),
            map([
              ['s', s],
              ['p', 1],
            ]),
          ]),
        ),
      ).toBe(FrameStatus.Ok);
      expect(Array.from(scanner.fault.subarray(0, 2))).toEqual([
        TickFault.None,
        TickFault.BadSymbol,
      ]);
    }
  });

  it('a symbol claiming 2^32-1 bytes (str32) is BadFrame', () => {
    expect(scanSafely(mp(0x82, 's', 0xdb, 0xff, 0xff, 0xff, 0xff, 'p', 1))).toBe(
      FrameStatus.BadFrame,
    );
  });
});

describe('batches past 4096', () => {
  it('any count from 4097 with the bytes present is TooLarge; nothing is reported per tick', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_BATCH + 1, max: 70_000 }),
        fc.constantFrom<'array16' | 'array32'>('array16', 'array32'),
        (n, form) => {
          if (form === 'array16' && n > 65535) return;
          // Leave results behind from a valid scan first ...
          expect(scanSafely(pack([{ s: 'A', p: 1 }, { s: 'B' }]))).toBe(FrameStatus.Ok);
          const faultsBefore = Array.from(scanner.fault.subarray(0, 4));
          const frame = mp(arrayHeader(n, form), new Uint8Array(n).fill(0x01));
          expect(scanSafely(frame)).toBe(FrameStatus.TooLarge);
          // ... a TooLarge frame reports no ticks and writes none.
          expect(scanner.count).toBe(0);
          expect(scanner.invalid).toBe(0);
          expect(Array.from(scanner.fault.subarray(0, 4))).toEqual(faultsBefore);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('4097 real ticks (array16 and array32) are TooLarge, and the scanner is fine afterwards', () => {
    const el = pack({ s: 'A', p: 1 });
    for (const form of ['array16', 'array32'] as const) {
      const frame = array(
        Array.from({ length: MAX_BATCH + 1 }, () => el),
        form,
      );
      expect(scanSafely(frame)).toBe(FrameStatus.TooLarge);
      expect(scanner.count).toBe(0);
      // The count is refused before any element is read: cut short, it is still TooLarge.
      expect(scanSafely(frame.subarray(0, frame.length - el.length))).toBe(FrameStatus.TooLarge);
    }
    const ok = pack([{ s: 'Z', p: 2 }]);
    expect(scanSafely(ok)).toBe(FrameStatus.Ok);
    expect(scanner.count).toBe(1);
    expect(scanner.fault[0]).toBe(TickFault.None);
  });
});

const validTickObject = fc.record(
  {
    s: symbol,
    p: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
    q: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
    b: fc.integer(),
    t: fc.integer({ min: 0, max: 2 ** 53 }),
    note: fc.string({ maxLength: 40 }),
    flag: fc.boolean(),
  },
  { requiredKeys: ['s', 'p'] },
);

describe('truncation at every byte offset of random valid frames', () => {
  it('every proper prefix (copied, or cut by length) is BadFrame', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          validTickObject.map((o) => pack(o)),
          fc.array(validTickObject, { minLength: 1, maxLength: 8 }).map((os) => pack(os)),
        ),
        (frame) => {
          expect(scanSafely(frame)).toBe(FrameStatus.Ok);
          for (let len = 0; len < frame.length; len++) {
            expect(scanSafely(frame.slice(0, len))).toBe(FrameStatus.BadFrame);
            expect(scanSafely(frame, len)).toBe(FrameStatus.BadFrame);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------
// Allocation bounds.
// ---------------------------------------------------------------------------

/** A corpus of hostile frames, built once (so that scanning it allocates nothing on our side). */
function hostileCorpus(): Uint8Array[] {
  const corpus: Uint8Array[] = [];
  const sample = <T>(arb: fc.Arbitrary<T>, n: number): T[] =>
    fc.sample(arb, { numRuns: n, seed: 42 });
  for (const [, claim] of hugeClaims) {
    corpus.push(mp(0x83, 's', 'A', 'p', 1, 'x', claim, 0x00, 0x00));
    corpus.push(mp(0x91, claim, 0x00));
  }
  const deep = new Uint8Array(4096).fill(0x91);
  corpus.push(deep, mp(0x83, 's', 'A', 'p', 1, 'x', deep));
  for (const ext of sample(extValue, 20))
    corpus.push(
      map([
        ['s', 'A'],
        ['p', ext],
      ]),
    );
  corpus.push(
    map([
      ['s', 'A'],
      ['p', 1],
      ['__proto__', 1],
    ]),
  );
  corpus.push(
    map([
      ['s', 'A'],
      ['p', f64(NaN)],
    ]),
    map([
      ['s', 'A'],
      ['p', f64Bits(0x7ff00000, 1)],
    ]),
  );
  corpus.push(
    map([
      ['s', str('S'.repeat(300), 'str16')],
      ['p', 1],
    ]),
  );
  const el = pack({ s: 'A', p: 1 });
  corpus.push(array(Array.from({ length: MAX_BATCH + 1 }, () => el)));
  corpus.push(array(Array.from({ length: MAX_BATCH }, () => el)));
  const rich = pack(sample(validTickObject, 20));
  for (let len = 0; len < rich.length; len += 7) corpus.push(rich.slice(0, len));
  for (const bytes of sample(fc.uint8Array({ minLength: 1, maxLength: 64 }), 100))
    corpus.push(bytes);
  return corpus;
}

/** The result arrays a TickScanner preallocates, by name. */
function resultArrays(s: TickScanner): Record<string, Int32Array | Uint8Array> {
  return {
    start: s.start,
    body: s.body,
    end: s.end,
    entries: s.entries,
    symStart: s.symStart,
    symLen: s.symLen,
    symHash: s.symHash,
    fault: s.fault,
  };
}

/** global.gc, or one obtained through the V8 flag (undefined if neither works). */
function getGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    const fromVm: unknown = runInNewContext('gc');
    return typeof fromVm === 'function' ? (fromVm as () => void) : undefined;
  } catch {
    return undefined;
  }
}

describe('allocation', () => {
  it('never replaces or grows its preset result arrays, and count never exceeds them', () => {
    const s = new TickScanner();
    const before = resultArrays(s);
    const buffers = Object.fromEntries(
      Object.entries(before).map(([k, a]) => [k, [a.buffer, a.length] as const]),
    );
    for (const frame of hostileCorpus()) {
      try {
        s.scan(frame);
      } catch (e) {
        throw new Error(`scan threw: ${String(e)}`);
      }
      expect(s.count).toBeLessThanOrEqual(MAX_BATCH);
      expect(s.count).toBeLessThanOrEqual(frame.length);
    }
    const after = resultArrays(s);
    for (const [k, a] of Object.entries(after)) {
      expect(a, k).toBe(before[k]);
      expect(a.buffer, k).toBe(buffers[k]![0]);
      expect(a.length, k).toBe(buffers[k]![1]);
      expect(a.length, k).toBe(MAX_BATCH);
    }
  });

  it('retains no memory across 10,000 hostile scans (heap delta with gc)', () => {
    const gc = getGc();
    if (gc === undefined) {
      console.warn('scanner-attacks: gc is not available; heap-growth check skipped');
      return;
    }
    const corpus = hostileCorpus();
    const s = new TickScanner();
    // Warm up (JIT, inline caches) before measuring.
    for (let i = 0; i < 2000; i++) s.scan(corpus[i % corpus.length]!);
    gc();
    gc();
    const before = process.memoryUsage();
    let statuses = 0;
    for (let i = 0; i < 10_000; i++) statuses += s.scan(corpus[i % corpus.length]!);
    gc();
    gc();
    const after = process.memoryUsage();
    expect(statuses).toBeGreaterThan(0);
    // Generous: the scanner itself should retain ~0 bytes; 2 MiB absorbs JIT and test noise.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(2 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(1024 * 1024);
  });
});
