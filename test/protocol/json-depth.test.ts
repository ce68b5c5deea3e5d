/**
 * jsonNestsWithin: the depth bound applied to JSON control messages before
 * JSON.parse, the same MAX_DEPTH as isSafeMessagePack (the top-level object
 * is level 1). Brackets and braces inside strings do not count, escapes
 * included; UTF-8 outside ASCII is skipped as is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonNestsWithin } from '../../src/protocol/json-depth.js';
import { MAX_DEPTH, isSafeMessagePack } from '../../src/protocol/tick-scanner.js';
import { pack } from './helpers.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const within = (text: string, max = MAX_DEPTH): boolean => jsonNestsWithin(utf8(text), max);

/** Levels of arrays/objects in a JSON value (a scalar is 0). */
function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  const children = Array.isArray(v) ? (v as unknown[]) : Object.values(v);
  let deepest = 0;
  for (const c of children) deepest = Math.max(deepest, depthOf(c));
  return 1 + deepest;
}

describe('jsonNestsWithin', () => {
  it('uses the MessagePack bound by default: MAX_DEPTH levels pass, one more does not', () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(within(nest(MAX_DEPTH))).toBe(true);
    expect(within(nest(MAX_DEPTH + 1))).toBe(false);
    // Same answer as the MessagePack pre-scan for the same value.
    const deepest = JSON.parse(nest(MAX_DEPTH)) as unknown;
    expect(isSafeMessagePack(pack(deepest))).toBe(true);
    expect(isSafeMessagePack(pack([deepest]))).toBe(false);
  });

  it.each([
    ['scalars', '42', 0],
    ['an empty object', '{}', 1],
    ['a ping', '{"op":"ping","id":7}', 1],
    ['a subscribe with since', '{"op":"subscribe","symbols":["A"],"since":{"A":1}}', 2],
    ['mixed objects and arrays', '{"a":[{"b":[{}]}]}', 5],
    ['brackets inside a string', '{"id":"[[[[[[[[[[{{{{{{{{{{"}', 1],
    ['an escaped quote before brackets', '{"id":"\\"[[[[[[[[[["}', 1],
    ['an escaped backslash ending a string', '{"id":"\\\\","x":[[1]]}', 3],
    ['non-ASCII text and brackets', '{"id":"€[[[😀","x":["é"]}', 2],
    ['whitespace', ' { "a" : [ 1 , [ 2 ] ] } ', 3],
  ])('%s: nests %d levels', (_name, text, levels) => {
    expect(within(text, levels)).toBe(true);
    if (levels > 0) expect(within(text, levels - 1)).toBe(false);
  });

  it('stops at the first level past the bound (the attack shapes: 1,500 and 8,000 levels)', () => {
    expect(within(`{"op":"ping","id":${'['.repeat(1500)}${']'.repeat(1500)}}`)).toBe(false);
    expect(within(`{"op":"subscribe","symbols":${'['.repeat(8000)}`)).toBe(false);
  });

  it('does not throw on malformed text (JSON.parse refuses it next)', () => {
    for (const text of ['', '"', '"\\', '{"a":"[', ']]]]', '}{', '[\\', '\u0000']) {
      expect(typeof within(text)).toBe('boolean');
    }
    // Siblings are not nesting.
    expect(within('['.concat('[],'.repeat(100), '[]]'), 2)).toBe(true);
  });

  it('agrees with the real depth of any JSON value, however it is formatted', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        (value, bound, pretty) => {
          const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
          expect(within(text, bound)).toBe(depthOf(value) <= bound);
        },
      ),
      { seed: 0x12_0001, numRuns: 500 },
    );
  });

  it('agrees on strings full of brackets, quotes, backslashes and odd UTF-16', () => {
    const nasty = fc.string({
      unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '\u0000', '\ud800', '😀', 'é'),
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        fc.array(nasty, { maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        (strs, bound) => {
          const value = { op: 'ping', id: strs };
          expect(within(JSON.stringify(value), bound)).toBe(depthOf(value) <= bound);
        },
      ),
      { seed: 0x12_0002, numRuns: 300 },
    );
  });
});
