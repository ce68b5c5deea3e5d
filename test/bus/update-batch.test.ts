/**
 * checkBatch: a message read from the stream is delivered only if it is a
 * batch exactly as encodeBatch writes it for the subject's symbol; anything
 * else (a foreign publisher, a corrupt or forged header) is refused with a
 * reason.
 */
import { describe, expect, test } from 'vitest';
import { BATCH_HEADER, checkBatch, encodeBatch } from '../../src/pipeline/update-batch.js';
import { writeU32 } from '../../src/pipeline/update-writer.js';
import { pack } from '../helpers/clients.js';
import { pendingTick as tick } from '../helpers/pending-tick.js';

const SYMBOL = new TextEncoder().encode('CB.A');

const valid = (): Uint8Array =>
  encodeBatch(
    [tick({ s: 'CB.A', p: 1.5, q: 10 }), tick({ s: 'CB.A', p: 2, x: 'hi', ok: true })],
    41,
  );

describe('checkBatch', () => {
  test('accepts what encodeBatch writes, also past n = 2^32', () => {
    expect(checkBatch(valid(), SYMBOL)).toBeUndefined();
    expect(
      checkBatch(encodeBatch([tick({ s: 'CB.A', p: 1 })], 2 ** 32 + 5), SYMBOL),
    ).toBeUndefined();
    const many = Array.from({ length: 20 }, (_, i) => [`k${i}`, i] as const);
    const wide = tick({ s: 'CB.A', p: 1, ...Object.fromEntries(many) });
    expect(checkBatch(encodeBatch([wide], 1), SYMBOL)).toBeUndefined();
  });

  test('refuses foreign bytes and forged headers', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['text', new TextEncoder().encode('hello')],
      ['a header only', new Uint8Array(BATCH_HEADER)],
    ];
    const huge = valid();
    writeU32(huge, 0, 0xffffffff);
    cases.push(['a count that cannot fit', huge]);
    const zeroN = valid();
    writeU32(zeroN, 4, 0);
    writeU32(zeroN, 8, 0);
    cases.push(['first n 0', zeroN]);
    const longLen = valid();
    writeU32(longLen, BATCH_HEADER, 0x7fffffff);
    cases.push(['a length past the end', longLen]);
    const shifted = valid();
    writeU32(shifted, 8, 42); // header says 42, the updates carry 41 and 42
    cases.push(['n not matching the header', shifted]);
    cases.push(['trailing bytes', new Uint8Array([...valid(), 0xc0])]);
    cases.push(['truncated', valid().subarray(0, valid().length - 3)]);
    for (const [what, bytes] of cases) {
      expect(checkBatch(bytes, SYMBOL), what).toEqual(expect.any(String));
    }
  });

  test('refuses updates that are not ticks as the server writes them', () => {
    const wrongSymbol = encodeBatch([tick({ s: 'CB.B', p: 1 })], 1);
    expect(checkBatch(wrongSymbol, SYMBOL)).toMatch(/symbol/);
    const noSymbol = encodeBatch([tick({ p: 1, q: 2 })], 1);
    expect(checkBatch(noSymbol, SYMBOL)).toMatch(/symbol/);
    // A nested value inside an otherwise well-formed batch.
    const nested = encodeBatch([tick({ s: 'CB.A', p: 1, x: [1, 2] })], 1);
    expect(checkBatch(nested, SYMBOL)).toEqual(expect.any(String));
    // The n/r tail missing: the update is the bare tick.
    const bare = pack({ s: 'CB.A', p: 1 });
    const noTail = new Uint8Array(BATCH_HEADER + 4 + bare.length);
    writeU32(noTail, 0, 1);
    writeU32(noTail, 8, 1);
    writeU32(noTail, BATCH_HEADER, bare.length);
    noTail.set(bare, BATCH_HEADER + 4);
    expect(checkBatch(noTail, SYMBOL)).toEqual(expect.any(String));
  });

  test('answers for any truncation or corruption without throwing', () => {
    const base = valid();
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const b = base.slice(0, (rand() % base.length) + 1);
      const flips = rand() % 4;
      for (let k = 0; k < flips; k++) b[rand() % b.length] = rand() & 0xff;
      const result = checkBatch(b, SYMBOL);
      expect(result === undefined || typeof result === 'string').toBe(true);
    }
  });
});
