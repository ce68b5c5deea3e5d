/**
 * Shared helpers for the protocol tests: msgpackr reference codec, a tiny
 * hand-written MessagePack builder (for byte layouts msgpackr never emits),
 * and a reference predicate for tick validity written from the contract and
 * docs/protocol.md, independent of the scanner.
 */
import { Packr, Unpackr } from 'msgpackr';
import { FrameStatus, TickFault, TickScanner } from '../../src/protocol/tick-scanner.js';

export const packr = new Packr({ useRecords: false });
export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

const utf8 = new TextEncoder();

/** msgpackr-encode `v` as a plain Uint8Array. */
export function pack(v: unknown): Uint8Array {
  const b = packr.pack(v);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Decodes with msgpackr (maps as objects, int64 as number). */
export function unpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/** Bytes from a hex string; spaces are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export type Part = Uint8Array | number | readonly number[] | string;

/**
 * Concatenates parts: a number is one byte, an array of numbers is raw bytes,
 * a string is a MessagePack str (smallest form), a Uint8Array is copied.
 */
export function mp(...parts: Part[]): Uint8Array {
  const chunks: Uint8Array[] = parts.map((p) => {
    if (typeof p === 'number') return Uint8Array.of(p);
    if (typeof p === 'string') return str(p);
    if (p instanceof Uint8Array) return p;
    return Uint8Array.from(p);
  });
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function be(n: number | bigint, bytes: number): number[] {
  let v = BigInt.asUintN(bytes * 8, BigInt(n));
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

export type StrForm = 'fix' | 'str8' | 'str16' | 'str32';

/** A MessagePack str holding `s` (text or raw bytes), smallest form unless forced. */
export function str(s: string | Uint8Array, form?: StrForm): Uint8Array {
  const b = typeof s === 'string' ? utf8.encode(s) : s;
  const f = form ?? (b.length < 32 ? 'fix' : b.length < 256 ? 'str8' : 'str16');
  switch (f) {
    case 'fix':
      return mp(0xa0 | b.length, b);
    case 'str8':
      return mp(0xd9, b.length, b);
    case 'str16':
      return mp(0xda, be(b.length, 2), b);
    case 'str32':
      return mp(0xdb, be(b.length, 4), b);
  }
}

/** Map header for `n` entries: fixmap, map16 or map32 (forced with `form`). */
export function mapHeader(n: number, form?: 'fix' | 'map16' | 'map32'): Uint8Array {
  const f = form ?? (n < 16 ? 'fix' : n < 65536 ? 'map16' : 'map32');
  if (f === 'fix') return Uint8Array.of(0x80 | n);
  if (f === 'map16') return mp(0xde, be(n, 2));
  return mp(0xdf, be(n, 4));
}

/** Array header for `n` elements: fixarray, array16 or array32 (forced with `form`). */
export function arrayHeader(n: number, form?: 'fix' | 'array16' | 'array32'): Uint8Array {
  const f = form ?? (n < 16 ? 'fix' : n < 65536 ? 'array16' : 'array32');
  if (f === 'fix') return Uint8Array.of(0x90 | n);
  if (f === 'array16') return mp(0xdc, be(n, 2));
  return mp(0xdd, be(n, 4));
}

/** A map from [key, encoded value] pairs; keys given as strings are encoded as str. */
export function map(entries: readonly (readonly [Part, Part])[], form?: 'fix' | 'map16' | 'map32') {
  return mp(mapHeader(entries.length, form), ...entries.flatMap(([k, v]) => [k, v]));
}

/** An array of already-encoded elements. */
export function array(elements: readonly Uint8Array[], form?: 'fix' | 'array16' | 'array32') {
  return mp(arrayHeader(elements.length, form), ...elements);
}

export const nil = Uint8Array.of(0xc0);
export const f64 = (x: number): Uint8Array => {
  const b = new Uint8Array(9);
  b[0] = 0xcb;
  new DataView(b.buffer).setFloat64(1, x);
  return b;
};
export const f32 = (x: number): Uint8Array => {
  const b = new Uint8Array(5);
  b[0] = 0xca;
  new DataView(b.buffer).setFloat32(1, x);
  return b;
};
export const u8 = (n: number) => mp(0xcc, n);
export const u16 = (n: number) => mp(0xcd, be(n, 2));
export const u32 = (n: number) => mp(0xce, be(n, 4));
export const u64 = (n: number | bigint) => mp(0xcf, be(n, 8));
export const i8 = (n: number) => mp(0xd0, be(n, 1));
export const i16 = (n: number) => mp(0xd1, be(n, 2));
export const i32 = (n: number) => mp(0xd2, be(n, 4));
export const i64 = (n: number | bigint) => mp(0xd3, be(n, 8));
export const bin8 = (b: readonly number[]) => mp(0xc4, b.length, b);

/** A minimal valid tick {s, p} plus extra encoded entries. */
export function tick(extra: readonly (readonly [Part, Part])[] = [], sym = 'AAPL'): Uint8Array {
  return map([['s', sym], ['p', f64(189.5)], ...extra]);
}

/** FNV-1a (32-bit, signed like the scanner's Int32Array) of `bytes`. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h | 0;
}

export interface ScanResult {
  readonly status: FrameStatus;
  readonly scanner: TickScanner;
  /** Faults of ticks [0, count). */
  readonly faults: number[];
}

/** Scans with a fresh scanner (or the one given) and copies the faults out. */
export function scan(bytes: Uint8Array, scanner = new TickScanner()): ScanResult {
  const status = scanner.scan(bytes);
  const faults = Array.from(scanner.fault.subarray(0, scanner.count));
  return { status, scanner, faults };
}

/** The fault of a single-map frame, asserting the frame itself is fine. */
export function faultOf(bytes: Uint8Array): number {
  const { status, scanner, faults } = scan(bytes);
  if (status !== FrameStatus.Ok) throw new Error(`frame status ${status}, expected Ok`);
  if (scanner.count !== 1) throw new Error(`count ${scanner.count}, expected 1`);
  return faults[0]!;
}

export { FrameStatus, TickFault, TickScanner };

// ---------------------------------------------------------------------------
// Reference predicate (contract "Tick" + docs/protocol.md decisions).
// ---------------------------------------------------------------------------

const SYMBOL_RE = /^[A-Za-z0-9._:/-]{1,32}$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype', 'n', 'r']);
const TWO_53 = 2 ** 53;

export interface PredicateOptions {
  /**
   * The object came from decoding bytes with int64AsType 'number': a uint64
   * `t` above 2^53 is then an integral number, and the contract accepts any
   * MessagePack integer >= 0 for `t`.
   */
  readonly decoded?: boolean;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function isFiniteNum(v: unknown): boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint';
}

function isScalar(v: unknown): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint') {
    return true;
  }
  return typeof v === 'string' && byteLength(v) <= 256;
}

/**
 * Whether a JS object (as msgpackr would encode it with useRecords:false, or
 * as msgpackr decoded it) is a valid tick. Strings with lone surrogates are
 * fine: msgpackr writes U+FFFD for them.
 */
export function isValidTickObject(obj: unknown, opts: PredicateOptions = {}): boolean {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return false;
  if (obj instanceof Uint8Array || obj instanceof Date || obj instanceof Map) return false;
  const keys = Object.keys(obj);
  if (keys.length > 64) return false;
  const rec = obj as Record<string, unknown>;
  if (!keys.includes('s') || !keys.includes('p')) return false;
  // Distinct JS keys with lone surrogates can encode to the same bytes (U+FFFD).
  if (new Set(keys.map((k) => Buffer.from(k, 'utf8').toString('hex'))).size !== keys.length) {
    return false;
  }
  for (const k of keys) {
    if (byteLength(k) > 256 || FORBIDDEN.has(k)) return false;
    const v = rec[k];
    switch (k) {
      case 's':
        if (typeof v !== 'string' || !SYMBOL_RE.test(v)) return false;
        break;
      case 'p':
      case 'b':
      case 'a':
        if (!isFiniteNum(v)) return false;
        break;
      case 'q':
        if (!isFiniteNum(v) || (v as number | bigint) < 0) return false;
        break;
      case 't':
        if (typeof v === 'bigint') {
          if (v < 0n) return false;
        } else if (
          typeof v !== 'number' ||
          !Number.isInteger(v) ||
          v < 0 ||
          (!opts.decoded && v > TWO_53)
        ) {
          return false;
        }
        break;
      default:
        if (!isScalar(v)) return false;
    }
  }
  return true;
}
