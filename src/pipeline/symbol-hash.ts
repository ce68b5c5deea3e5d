/**
 * The symbol table's hash: HalfSipHash-1-3 (Aumasson and Bernstein's SipHash
 * on 32-bit words, the variant Linux uses as `hsiphash` for its hash tables)
 * under a 64-bit key drawn at random for each table.
 *
 * Why keyed: symbols come from feeds, so whoever writes ticks chooses the
 * keys of the table. With an unkeyed hash (the scanner's FNV-1a, which the
 * table used before) anyone can compute symbols that share the low bits of
 * their hash; 65,536 of them made every insert walk one probe chain (13.7 s
 * to insert them, 6.7k ticks/s after). With a secret key, which symbols
 * collide cannot be predicted from outside, and HalfSipHash is built for
 * exactly that (a short-input PRF, not invertible without the key).
 *
 * Why 1-3 rounds: it is a hash-table key, not a MAC, and symbols are short
 * (1–32 bytes); Linux and Rust's HashMap make the same trade. Word-sized
 * arithmetic only: no object, no BigInt, nothing allocated per call.
 */

/** A table's hash key: two 32-bit words. */
export interface SymbolHashKey {
  readonly k0: number;
  readonly k1: number;
}

/** A fresh random key (crypto.getRandomValues: a global in Node 20). */
export function randomSymbolHashKey(): SymbolHashKey {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return Object.freeze({ k0: words[0]!, k1: words[1]! });
}

/**
 * HalfSipHash-1-3 of buf[start, start+len) under the key (k0, k1), as a
 * signed 32-bit integer (the reference's little-endian output word).
 *
 * One loop holds the only SipRound: a helper would have to return four
 * words (an object per call) or keep them in fields. Writing the rounds out
 * three times was 2-3 ns faster on a 14-byte symbol (about 20 vs 23 ns here,
 * noisy); the hash runs only when the table's recent-symbol cache misses and
 * on inserts, so the single copy is kept.
 */
export function symbolHash(
  k0: number,
  k1: number,
  buf: Uint8Array,
  start: number,
  len: number,
): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = (0x6c796765 ^ k0) | 0;
  let v3 = (0x74656462 ^ k1) | 0;
  // One SipRound per step: a step per whole 4-byte word, one for the last
  // 0-3 bytes (with the length in the top byte), then three finalisation
  // rounds (after v2 ^= 0xff), which mix in no message (m = 0).
  const blocks = (len >> 2) + 1;
  const steps = blocks + 3;
  let i = start;
  for (let k = 0; k < steps; k++) {
    let m = 0;
    if (k < blocks - 1) {
      m = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
      i += 4;
    } else if (k === blocks - 1) {
      m = len << 24;
      const left = start + len - i;
      if (left === 3) m |= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16);
      else if (left === 2) m |= buf[i]! | (buf[i + 1]! << 8);
      else if (left === 1) m |= buf[i]!;
    } else if (k === blocks) {
      v2 ^= 0xff;
    }
    v3 ^= m;
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  return v1 ^ v3;
}

/**
 * FNV-1a 32 of buf[start, start+len), as the tick scanner computes it for
 * each symbol (scanner.symHash). Unkeyed, so anyone can make it collide: the
 * symbol table uses it only to pick the one slot of its recent-symbol cache
 * that a lookup checks before hashing with the key (see SymbolTable.intern).
 */
export function fnv1a(buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let j = start; j < start + len; j++) h = Math.imul(h ^ buf[j]!, 0x01000193);
  return h;
}
