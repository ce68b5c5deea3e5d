/**
 * CRC-32 (IEEE 802.3, the zlib/PNG/gzip one) of a byte range.
 *
 * Why two implementations: `zlib.crc32` (Node >= 20.15) costs about 145 ns
 * per call whatever the length on this machine (the native call, plus a
 * `subarray` to pass a range), while a slice-by-8 table loop in JS does a
 * typical 80-byte record in about 60 ns. Measured crossover: about 300 bytes.
 * So short ranges go through the JS loop and long ones through zlib; both
 * compute the same function, so the choice never shows on disk.
 */
import * as zlib from 'node:zlib';
import { JournalError, JournalErrorCode } from './errors.js';

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

/** `zlib.crc32`, or undefined on a Node.js without it (read dynamically on purpose). */
const native = (zlib as { readonly crc32?: NativeCrc32 }).crc32;

/** Ranges at least this long are handed to zlib. */
export const CRC_NATIVE_FROM = 256;

/** Eight 256-entry tables: T[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const T = new Int32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[i] = c;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 8; t++) {
    const p = T[(t - 1) * 256 + i]!;
    T[t * 256 + i] = T[p & 0xff]! ^ (p >>> 8);
  }
}

/**
 * Throws `journal_unavailable` when this Node.js has no `zlib.crc32`. Called
 * when a journal is opened, so an old Node fails at start with a clear
 * message instead of somewhere on the hot path.
 */
export function requireCrc32(): void {
  if (typeof native !== 'function') {
    throw new JournalError(
      JournalErrorCode.Unavailable,
      `journal: this Node.js (${process.version}) has no zlib.crc32; use Node.js >= 20.15 or >= 22.2`,
    );
  }
}

/**
 * CRC-32 of `buf[start, end)`, continuing from `seed` (the CRC of the bytes
 * before, as zlib's `value` argument; 0 to start).
 */
export function crc32(buf: Uint8Array, start: number, end: number, seed = 0): number {
  if (end - start >= CRC_NATIVE_FROM && native !== undefined) {
    return native(buf.subarray(start, end), seed);
  }
  let c = ~seed;
  let s = start;
  while (end - s >= 8) {
    const a = c ^ (buf[s]! | (buf[s + 1]! << 8) | (buf[s + 2]! << 16) | (buf[s + 3]! << 24));
    c =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + buf[s + 4]!]! ^
      T[512 + buf[s + 5]!]! ^
      T[256 + buf[s + 6]!]! ^
      T[buf[s + 7]!]!;
    s += 8;
  }
  while (s < end) c = T[(c ^ buf[s++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * CRC-32 of a whole array continuing from `seed`; long arrays go to zlib
 * without a `subarray` (used for the caller's update bytes on append).
 */
export function crc32Of(data: Uint8Array, seed: number): number {
  if (data.length >= CRC_NATIVE_FROM && native !== undefined) return native(data, seed);
  return crc32(data, 0, data.length, seed);
}
