/**
 * symbolHash is HalfSipHash-1-3: checked against the reference vectors, and
 * each table draws its own key.
 */
import { describe, expect, it } from 'vitest';
import { randomSymbolHashKey, symbolHash } from '../../src/pipeline/symbol-hash.js';

// Linux lib/tests/siphash_kunit.c, test_vectors_hsiphash for 32-bit builds
// (HalfSipHash-1-3, 32-bit output): vector n hashes the bytes 0..n-1 under
// the key 00 01 … 07, i.e. k0 = 0x03020100, k1 = 0x07060504.
const VECTORS = [
  0x5814c896, 0xe7e864ca, 0xbc4b0e30, 0x01539939, 0x7e059ea6, 0x88e3d89b, 0xa0080b65, 0x9d38d9d6,
  0x577999b1, 0xc839caed, 0xe4fa32cf, 0x959246ee, 0x6b28096c, 0x66dd9cd6, 0x16658a7c, 0xd0257b04,
  0x8b31d501, 0x2b1cd04b, 0x06712339, 0x522aca67, 0x911bb605, 0x90a65f0e, 0xf826ef7b, 0x62512deb,
  0x57150ad7, 0x5d473507, 0x1ec47442, 0xab64afd3, 0x0a4100d0, 0x6d2ce652, 0x2331b6a3, 0x08d8791a,
  0xbc6dda8d, 0xe0f6c934, 0xb0652033, 0x9b9851cc,
];
const K0 = 0x03020100;
const K1 = 0x07060504;

describe('symbolHash', () => {
  it('is HalfSipHash-1-3 (reference vectors, every length a symbol can have and more)', () => {
    const input = Uint8Array.from({ length: 64 }, (_, i) => i);
    VECTORS.forEach((want, n) => {
      expect(symbolHash(K0, K1, input, 0, n) >>> 0, `${n} bytes`).toBe(want);
    });
  });

  it('hashes the bytes where they are: the same at any offset in any buffer', () => {
    for (let n = 0; n < VECTORS.length; n++) {
      const at = 1 + (n % 7);
      const buf = new Uint8Array(at + n + 5).fill(0xa5);
      for (let i = 0; i < n; i++) buf[at + i] = i;
      expect(symbolHash(K0, K1, buf, at, n) >>> 0, `${n} bytes at ${at}`).toBe(VECTORS[n]);
    }
  });

  it('depends on the key', () => {
    const s = new TextEncoder().encode('AAPL');
    expect(symbolHash(K0, K1, s, 0, 4)).not.toBe(symbolHash(K0 ^ 1, K1, s, 0, 4));
    expect(symbolHash(K0, K1, s, 0, 4)).not.toBe(symbolHash(K0, K1 ^ 0x80000000, s, 0, 4));
  });

  it('draws a different random key each time', () => {
    const keys = Array.from({ length: 8 }, () => randomSymbolHashKey());
    expect(new Set(keys.map((k) => `${k.k0}:${k.k1}`)).size).toBe(8);
  });
});
