/**
 * isUtf8: strict UTF-8 (no overlongs, no surrogates, nothing above
 * U+10FFFF, no truncated sequences), checked on a [start, end) window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUtf8 } from '../../src/protocol/tick-scanner.js';
import { hex } from './helpers.js';

const check = (bytes: Uint8Array) => isUtf8(bytes, 0, bytes.length);

describe('isUtf8 accepts', () => {
  it.each([
    ['empty', ''],
    ['ASCII', '41 42 43 00 7f'],
    ['2-byte min U+0080', 'c2 80'],
    ['2-byte max U+07FF', 'df bf'],
    ['é', 'c3 a9'],
    ['3-byte min U+0800', 'e0 a0 80'],
    ['U+D7FF (below surrogates)', 'ed 9f bf'],
    ['U+E000 (above surrogates)', 'ee 80 80'],
    ['U+FFFD', 'ef bf bd'],
    ['U+FFFF', 'ef bf bf'],
    ['4-byte min U+10000', 'f0 90 80 80'],
    ['😀', 'f0 9f 98 80'],
    ['4-byte max U+10FFFF', 'f4 8f bf bf'],
    ['mixed', '61 c3 a9 e6 97 a5 f0 9f 98 80 7a'],
  ])('%s', (_name, h) => {
    expect(check(hex(h))).toBe(true);
  });

  it('agrees with TextEncoder for any well-formed string', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        expect(check(enc.encode(s))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('isUtf8 rejects', () => {
  it.each([
    ['lone continuation', '80'],
    ['continuation after ASCII', '41 bf'],
    ['C0 overlong NUL', 'c0 80'],
    ['C1 overlong', 'c1 bf'],
    ['3-byte overlong of U+007F', 'e0 81 bf'],
    ['3-byte overlong of U+07FF', 'e0 9f bf'],
    ['4-byte overlong of U+FFFF', 'f0 8f bf bf'],
    ['surrogate D800 (ED A0 80)', 'ed a0 80'],
    ['surrogate DFFF', 'ed bf bf'],
    ['surrogate pair as CESU-8', 'ed a0 bd ed b8 80'],
    ['above U+10FFFF (F4 90)', 'f4 90 80 80'],
    ['F5 lead', 'f5 80 80 80'],
    ['FF', 'ff'],
    ['FE', 'fe'],
    ['truncated 2-byte', 'c3'],
    ['truncated 3-byte (1 of 2)', 'e2 82'],
    ['truncated 3-byte (0 of 2)', 'e2'],
    ['truncated 4-byte', 'f0 9f 98'],
    ['truncated after ASCII', '61 62 f0'],
    ['bad second byte', 'c3 41'],
    ['bad third byte', 'e2 82 41'],
    ['bad fourth byte', 'f0 9f 98 41'],
  ])('%s', (_name, h) => {
    expect(check(hex(h))).toBe(false);
  });

  it('agrees with a fatal TextDecoder on random bytes', () => {
    const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const ref = (b: Uint8Array) => {
      try {
        dec.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    const bytes = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0x80, max: 0xbf }),
        fc.constantFrom(0xc2, 0xe0, 0xed, 0xf0, 0xf4),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(bytes, (arr) => {
        const b = Uint8Array.from(arr);
        expect(check(b)).toBe(ref(b));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isUtf8 window', () => {
  it('checks only [start, end)', () => {
    const b = hex('ff 61 c3 a9 ff');
    expect(isUtf8(b, 1, 4)).toBe(true);
    expect(isUtf8(b, 0, 4)).toBe(false);
    expect(isUtf8(b, 1, 5)).toBe(false);
    expect(isUtf8(b, 2, 2)).toBe(true);
  });

  it('does not read a sequence across end', () => {
    // "é" split by the window: its continuation byte is outside.
    const b = hex('61 c3 a9');
    expect(isUtf8(b, 0, 2)).toBe(false);
    expect(isUtf8(b, 0, 3)).toBe(true);
  });
});
