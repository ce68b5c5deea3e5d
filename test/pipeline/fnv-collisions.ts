/**
 * Valid symbols whose FNV-1a hashes share their low `bits` bits: the
 * hash-flooding input of issue 12 (item 6), built the way an attacker would.
 *
 * FNV-1a's step h = (h ^ byte) × P is a bijection on the low k bits for any
 * k (P is odd), so the low bits of a suffix's input state can be solved for:
 * for every 4-character suffix, the state before it that ends on the target
 * is computed backwards; then any prefix whose state is one of those gets
 * the matching suffix. No brute force over whole symbols is needed.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** FNV-1a 32 of a string of single-byte characters (as the scanner hashes a symbol). */
export function fnv1a(s: string): number {
  let h = FNV_OFFSET;
  for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), FNV_PRIME);
  return h;
}

/** The inverse of `x` modulo 2^32 (x odd), by Newton's iteration. */
function inverse(x: number): number {
  let y = x;
  for (let k = 0; k < 5; k++) y = Math.imul(y, 2 - Math.imul(x, y));
  return y;
}

/** `count` distinct symbols of [A-Z0-9] (at most 12 bytes) whose FNV-1a agree on the low `bits` bits. */
export function fnvCollidingSymbols(count: number, bits = 18, target = 0x2a5): string[] {
  const mask = bits >= 32 ? -1 : (1 << bits) - 1;
  const want = target & mask;
  const inv = inverse(FNV_PRIME);
  const n = ALPHABET.length;
  // bySuffixState[state] = 1 + index of a 4-character suffix that takes state to `want`.
  const bySuffixState = new Int32Array(mask + 1);
  const suffix = (k: number): string =>
    ALPHABET[k % n]! +
    ALPHABET[Math.floor(k / n) % n]! +
    ALPHABET[Math.floor(k / n ** 2) % n]! +
    ALPHABET[Math.floor(k / n ** 3) % n]!;
  for (let k = 0; k < n ** 4; k++) {
    const s = suffix(k);
    let x = want;
    for (let j = 3; j >= 0; j--) x = (Math.imul(x, inv) ^ s.charCodeAt(j)) & mask;
    if (bySuffixState[x] === 0) bySuffixState[x] = k + 1;
  }
  const out: string[] = [];
  for (let p = 0; out.length < count; p++) {
    const prefix = `Z${p.toString(36).toUpperCase()}`;
    const k = bySuffixState[fnv1a(prefix) & mask]!;
    if (k === 0) continue;
    const symbol = prefix + suffix(k - 1);
    if ((fnv1a(symbol) & mask) !== want) throw new Error(`bad collision ${symbol}`);
    out.push(symbol);
  }
  return out;
}
