/**
 * Property tests: the scanner agrees with a reference predicate written from
 * the contract (helpers.isValidTickObject) for arbitrary JS records encoded
 * by msgpackr, and stays sound (never throws, valid ⇒ predicate holds) on
 * random bytes and random mutations of valid frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameStatus, isValidTickObject, pack, TickFault, TickScanner, unpack } from './helpers.js';

const scanner = new TickScanner();

const SYMBOL_CHARS = 'ABCXYZabcxyz0189._:/-'.split('');

const validSymbol = fc
  .array(fc.constantFrom(...SYMBOL_CHARS), { minLength: 1, maxLength: 32 })
  .map((cs) => cs.join(''));

const anySymbolString = fc.oneof(
  validSymbol,
  fc.constantFrom('', 'S'.repeat(32), 'S'.repeat(33), 'A B', 'ÄPPL', '*', 'A,B', '\ud800'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 40)),
  fc.constantFrom(NaN, Infinity, -Infinity),
  fc.integer({ min: 0, max: 2 ** 53 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

const shortString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('v'.repeat(256), 'v'.repeat(257), 'é'.repeat(128), 'é'.repeat(129)),
);

const scalar = fc.oneof(fc.constant(null), fc.boolean(), number, shortString);

const nonScalar = fc.oneof(
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 3 }),
  fc.constant([[1, [2]]]),
  fc.uint8Array({ maxLength: 3 }),
  fc.constant(new Date(0)),
  fc.constant(undefined),
);

const value = fc.oneof(
  { arbitrary: scalar, weight: 10 },
  { arbitrary: nonScalar, weight: 1 },
  { arbitrary: anySymbolString, weight: 1 },
);

const key = fc.oneof(
  { arbitrary: fc.constantFrom('s', 'p', 'q', 'b', 'a', 't'), weight: 1 },
  {
    arbitrary: fc.constantFrom('n', 'r', '__proto__', 'constructor', 'prototype', '', 'S', 'P'),
    weight: 1,
  },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 6 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom('k'.repeat(256), 'k'.repeat(257)), weight: 1 },
);

/** Plausible values for the known keys, so that valid ticks are common. */
const mostly = (good: fc.Arbitrary<unknown>, other: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: other, weight: 1 });
const finite = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
const knownValue: Record<string, fc.Arbitrary<unknown>> = {
  s: mostly(validSymbol, fc.oneof(anySymbolString, value)),
  p: mostly(finite, value),
  q: mostly(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), value),
  b: mostly(fc.integer(), value),
  a: mostly(fc.double({ noNaN: true, noDefaultInfinity: true }), value),
  t: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 2 ** 53 }), weight: 4 },
    { arbitrary: fc.constantFrom(1700000000000000, 2 ** 53, 2 ** 53 + 2, -1, 1.5, NaN), weight: 1 },
    { arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), weight: 1 },
    { arbitrary: value, weight: 1 },
  ),
};

const knownRecord = (requiredKeys: ('s' | 'p')[]) =>
  fc.record(
    {
      s: knownValue.s!,
      p: knownValue.p!,
      q: knownValue.q!,
      b: knownValue.b!,
      a: knownValue.a!,
      t: knownValue.t!,
    },
    { requiredKeys },
  );

const record: fc.Arbitrary<Record<string, unknown>> = fc
  .oneof(
    { arbitrary: knownRecord(['s', 'p']), weight: 4 },
    { arbitrary: knownRecord([]), weight: 1 },
  )
  .chain((known) =>
    fc
      .oneof(
        { arbitrary: fc.array(fc.tuple(key, value), { maxLength: 3 }), weight: 9 },
        { arbitrary: fc.array(fc.tuple(key, value), { minLength: 58, maxLength: 70 }), weight: 1 },
      )
      .map((extra) => Object.fromEntries([...Object.entries(known), ...extra])),
  );

function verdictOf(obj: Record<string, unknown>): boolean {
  expect(scanner.scan(pack(obj))).toBe(FrameStatus.Ok);
  expect(scanner.count).toBe(1);
  return scanner.fault[0] === TickFault.None;
}

describe('scanner verdict equals the reference predicate', () => {
  it('on single msgpackr-encoded records', () => {
    let valid = 0;
    fc.assert(
      fc.property(record, (obj) => {
        const expected = isValidTickObject(obj);
        if (expected) valid++;
        expect(verdictOf(obj)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
    // The generator must exercise both outcomes.
    expect(valid).toBeGreaterThan(100);
    expect(valid).toBeLessThan(950);
  });

  it('on batches, index by index', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (objs) => {
        expect(scanner.scan(pack(objs))).toBe(FrameStatus.Ok);
        expect(scanner.isBatch).toBe(true);
        expect(scanner.count).toBe(objs.length);
        const got = objs.map((_, i) => scanner.fault[i] === TickFault.None);
        expect(got).toEqual(objs.map((o) => isValidTickObject(o)));
        expect(scanner.invalid).toBe(got.filter((v) => !v).length);
      }),
      { numRuns: 200 },
    );
  });
});

/** Checks the scanner's output on arbitrary bytes; never throws. */
function checkSound(bytes: Uint8Array): void {
  let status: number;
  try {
    status = scanner.scan(bytes);
  } catch (e) {
    throw new Error(`scan threw on ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
  }
  expect([FrameStatus.Ok, FrameStatus.BadFrame, FrameStatus.TooLarge]).toContain(status);
  if (status !== FrameStatus.Ok) return;
  let invalid = 0;
  let prevEnd = scanner.isBatch ? 0 : -1;
  for (let i = 0; i < scanner.count; i++) {
    const start = scanner.start[i]!;
    const end = scanner.end[i]!;
    expect(start).toBeGreaterThanOrEqual(prevEnd);
    expect(end).toBeGreaterThan(start);
    expect(end).toBeLessThanOrEqual(bytes.length);
    prevEnd = end;
    if (scanner.fault[i] !== TickFault.None) {
      invalid++;
      continue;
    }
    const symStart = scanner.symStart[i]!;
    expect(symStart).toBeGreaterThanOrEqual(scanner.body[i]!);
    expect(symStart + scanner.symLen[i]!).toBeLessThanOrEqual(end);
    const obj = unpack(bytes.subarray(start, end)) as Record<string, unknown>;
    if (!isValidTickObject(obj, { decoded: true })) {
      throw new Error(
        `scanner accepted ${Buffer.from(bytes.subarray(start, end)).toString('hex')}`,
      );
    }
    expect(Buffer.from(bytes.subarray(symStart, symStart + scanner.symLen[i]!)).toString()).toBe(
      obj.s,
    );
  }
  expect(scanner.end[scanner.count - 1] ?? bytes.length).toBe(bytes.length);
  expect(scanner.invalid).toBe(invalid);
}

const validRecord = fc.record(
  {
    s: validSymbol,
    p: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
    q: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
    t: fc.integer({ min: 0, max: 2 ** 53 }),
    x: fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.integer()),
    note: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: ['s', 'p'] },
);

const validFrame = fc.oneof(
  validRecord.map((o) => pack(o)),
  fc.array(validRecord, { maxLength: 6 }).map((os) => pack(os)),
);

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.constantFrom(
      0x00,
      0x7f,
      0x80,
      0x90,
      0xc0,
      0xc1,
      0xc4,
      0xd4,
      0xd9,
      0xdc,
      0xdd,
      0xde,
      0xdf,
      0xff,
    ),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(frame: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  const b = Array.from(frame);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] = b[at]! ^ m.mask;
        break;
      case 'set':
        b[at] = m.byte;
        break;
      case 'insert':
        b.splice(at, 0, m.byte);
        break;
      case 'delete':
        b.splice(at, 1);
        break;
      case 'truncate':
        b.length = at;
        break;
    }
  }
  return Uint8Array.from(b);
}

describe('soundness on hostile bytes', () => {
  it('random byte arrays', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), checkSound), { numRuns: 1000 });
  });

  it('random bytes behind a map or array header', () => {
    const header = fc.constantFrom(
      [0x81],
      [0x82],
      [0x83],
      [0x91],
      [0x92, 0x82],
      [0xde, 0x00, 0x02],
      [0xdc, 0x00, 0x01, 0x82],
      [0x82, 0xa1, 0x73, 0xa1, 0x41, 0xa1, 0x70],
    );
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 48 }), (h, rest) => {
        const bytes = new Uint8Array(h.length + rest.length);
        bytes.set(h);
        bytes.set(rest, h.length);
        checkSound(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('valid frames are sound', () => {
    fc.assert(
      fc.property(validFrame, (frame) => {
        expect(scanner.scan(frame)).toBe(FrameStatus.Ok);
        expect(scanner.invalid).toBe(0);
        checkSound(frame);
      }),
      { numRuns: 300 },
    );
  });

  it('random mutations of valid frames', () => {
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, muts) => {
        checkSound(mutate(frame, muts));
      }),
      { numRuns: 1000 },
    );
  });
});
