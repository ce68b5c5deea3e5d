/**
 * A hand-written MessagePack reader that validates feed frames in place.
 *
 * It never decodes ticks into JS objects: it walks the bytes once, checks
 * each tick against the contract (docs/protocol.md, "Tick"), and leaves the
 * offsets the pipeline needs (map header, body, end, symbol bytes, symbol
 * hash) in preallocated typed arrays. Nothing is allocated per frame or per
 * tick, and nothing throws: every fault is a status code.
 *
 * Hostile input is bounded: a declared length or element count is checked
 * against the bytes that remain before anything trusts it (each element takes
 * at least one byte), nesting is capped at MAX_DEPTH, and a frame is never
 * read past `end`. The work done is linear in the frame's size, except the
 * duplicate-key check, which is quadratic in a tick's key count (≤ 64) and
 * compares bytes only when two keys share a hash.
 *
 * No `node:` imports: the protocol layer is shared with clients.
 */
import { MAX_BATCH, MAX_STRING_BYTES, MAX_SYMBOL_BYTES, MAX_TICK_KEYS } from './codes.js';

/** Outcome of scanning one frame. */
export const FrameStatus = {
  Ok: 0,
  /** Not MessagePack, truncated, trailing bytes, nesting too deep, or not a map/array. */
  BadFrame: 1,
  /** A batch of more than MAX_BATCH elements. */
  TooLarge: 2,
} as const;
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** Why a tick is invalid (0 = valid). Index into TICK_FAULT_MESSAGES. */
export const TickFault = {
  None: 0,
  NotAMap: 1,
  TooManyKeys: 2,
  NonStringKey: 3,
  KeyTooLong: 4,
  BadUtf8: 5,
  DuplicateKey: 6,
  ForbiddenKey: 7,
  ReservedKey: 8,
  BadSymbol: 9,
  BadPrice: 10,
  BadSize: 11,
  BadBid: 12,
  BadAsk: 13,
  BadTime: 14,
  NestedValue: 15,
  ExtensionValue: 16,
  BinaryValue: 17,
  StringTooLong: 18,
  MissingSymbol: 19,
  MissingPrice: 20,
  /** Set by the pipeline, not the scanner: the symbol table is full. */
  SymbolTableFull: 21,
} as const;
export type TickFault = (typeof TickFault)[keyof typeof TickFault];

export const TICK_FAULT_MESSAGES: readonly string[] = Object.freeze([
  'valid',
  'a batch element is not a map',
  `a tick has more than ${MAX_TICK_KEYS} keys`,
  'a key is not a string',
  `a key is longer than ${MAX_STRING_BYTES} bytes`,
  'a key or string value is not valid UTF-8',
  'a key appears twice',
  'keys __proto__, constructor and prototype are not allowed',
  'keys n and r are reserved for the server',
  `s must be a string of 1-${MAX_SYMBOL_BYTES} bytes of [A-Za-z0-9._:/-]`,
  'p must be a finite number',
  'q must be a finite number >= 0',
  'b must be a finite number',
  'a must be a finite number',
  't must be an integer >= 0',
  'values must be scalars, not maps or arrays',
  'extension types are not allowed',
  'binary values are not allowed',
  `string values are limited to ${MAX_STRING_BYTES} bytes`,
  's (symbol) is missing',
  'p (price) is missing',
  'the symbol table is full',
]);

export const FRAME_ERROR_MESSAGES = Object.freeze({
  empty: 'empty frame',
  notContainer: 'a frame must hold one MessagePack map (a tick) or array (a batch)',
  malformed: 'not valid MessagePack: truncated, a length past the end, or a reserved byte',
  trailing: 'trailing bytes after the MessagePack value',
  tooDeep: 'nesting too deep',
  tooLarge: `a batch holds at most ${MAX_BATCH} ticks`,
});

/**
 * Deepest container nesting in a frame: the top-level map or array is level 1,
 * a container inside it level 2, and so on. A deeper frame is BadFrame.
 */
export const MAX_DEPTH = 8;

const MALFORMED = -1;
const TOO_DEEP = -2;

// Byte classes for symbols: [A-Za-z0-9._:/-].
const SYMBOL_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  SYMBOL_CHAR[c] = /^[A-Za-z0-9._:/-]$/.test(ch) ? 1 : 0;
}

const FORBIDDEN_KEYS: readonly Uint8Array[] = ['__proto__', 'constructor', 'prototype'].map((k) =>
  new TextEncoder().encode(k),
);

// Scratch for reading big-endian floats without a DataView per frame.
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// What a value turned out to be (set by #value).
const V_OTHER = 0;
const V_INT = 1;
const V_FLOAT = 2;
const V_STR = 3;
const V_NIL_BOOL = 4;
const V_CONTAINER = 5;
const V_EXT = 6;
const V_BIN = 7;

// Role of a key.
const K_OTHER = 0;
const K_S = 1;
const K_P = 2;
const K_Q = 3;
const K_B = 4;
const K_A = 5;
const K_T = 6;

/**
 * Scans frames and keeps the results of the last scan. One instance per
 * pipeline; not reentrant.
 */
export class TickScanner {
  /** Ticks in the last frame (elements of a batch, or 1 for a single map). */
  count = 0;
  /** Whether the last frame was an array. */
  isBatch = false;
  /** Invalid ticks in the last frame. */
  invalid = 0;
  /** For FrameStatus.BadFrame/TooLarge: which message applies. */
  frameError = '';

  /** Offset of each tick's map header. */
  readonly start = new Int32Array(MAX_BATCH);
  /** Offset of the first key of each tick (after the header). */
  readonly body = new Int32Array(MAX_BATCH);
  /** Offset just past each tick. */
  readonly end = new Int32Array(MAX_BATCH);
  /** Key/value pairs in each tick. */
  readonly entries = new Int32Array(MAX_BATCH);
  /** Offset and length of each tick's symbol bytes. */
  readonly symStart = new Int32Array(MAX_BATCH);
  readonly symLen = new Int32Array(MAX_BATCH);
  /** FNV-1a hash of each tick's symbol bytes. */
  readonly symHash = new Int32Array(MAX_BATCH);
  /** TickFault per tick (0 = valid). */
  readonly fault = new Uint8Array(MAX_BATCH);

  #buf: Uint8Array = new Uint8Array(0);
  #end = 0;
  // Set by #value: what the value was, its numeric value, string bounds.
  #kind = V_OTHER;
  #num = 0;
  // Floats are not decoded unless a check needs the value: #floatAt is the
  // offset of the payload, #floatWide whether it is a float64.
  #floatAt = 0;
  #floatWide = false;
  #strStart = 0;
  #strLen = 0;
  // Keys of the tick being scanned, for the duplicate check.
  readonly #keyStart = new Int32Array(MAX_TICK_KEYS);
  readonly #keyLen = new Int32Array(MAX_TICK_KEYS);
  readonly #keyHash = new Int32Array(MAX_TICK_KEYS);
  #multiKeys = 0;
  // One-byte keys (s, p, q, …: almost every key in practice) are checked for
  // duplicates with a stamp per byte value instead of hashing and comparing:
  // #seen1[c] === #stamp means key c was already seen in this tick.
  readonly #seen1 = new Int32Array(256);
  #stamp = 0;

  /**
   * Scans `buf[0, length)`. Returns a FrameStatus; per-tick results are in the
   * public arrays for indices [0, count).
   */
  scan(buf: Uint8Array, length: number = buf.length): FrameStatus {
    this.#buf = buf;
    this.#end = length;
    this.count = 0;
    this.invalid = 0;
    this.isBatch = false;
    if (length === 0) return this.#bad(FRAME_ERROR_MESSAGES.empty);
    const c = buf[0]!;
    let pos: number;
    if ((c & 0xf0) === 0x80 || c === 0xde || c === 0xdf) {
      this.count = 1;
      pos = this.#tick(0, 0, 1);
    } else if ((c & 0xf0) === 0x90 || c === 0xdc || c === 0xdd) {
      this.isBatch = true;
      let n: number;
      if (c === 0xdc) {
        if (length < 3) return this.#bad(FRAME_ERROR_MESSAGES.malformed);
        n = (buf[1]! << 8) | buf[2]!;
        pos = 3;
      } else if (c === 0xdd) {
        if (length < 5) return this.#bad(FRAME_ERROR_MESSAGES.malformed);
        n = readU32(buf, 1);
        pos = 5;
      } else {
        n = c & 0x0f;
        pos = 1;
      }
      if (n > length - pos) return this.#bad(FRAME_ERROR_MESSAGES.malformed);
      if (n > MAX_BATCH) {
        this.frameError = FRAME_ERROR_MESSAGES.tooLarge;
        return FrameStatus.TooLarge;
      }
      this.count = n;
      for (let i = 0; i < n && pos >= 0; i++) {
        const e = buf[pos]!;
        if ((e & 0xf0) === 0x80 || e === 0xde || e === 0xdf) {
          pos = this.#tick(i, pos, 2);
        } else {
          this.start[i] = pos;
          this.fault[i] = TickFault.None;
          pos = this.#skip(pos, 2);
          this.#fail(i, TickFault.NotAMap);
          this.end[i] = pos;
        }
      }
    } else {
      return this.#bad(FRAME_ERROR_MESSAGES.notContainer);
    }
    if (pos === TOO_DEEP) return this.#bad(FRAME_ERROR_MESSAGES.tooDeep);
    if (pos < 0) return this.#bad(FRAME_ERROR_MESSAGES.malformed);
    if (pos !== length) return this.#bad(FRAME_ERROR_MESSAGES.trailing);
    return FrameStatus.Ok;
  }

  #bad(message: string): FrameStatus {
    this.frameError = message;
    return FrameStatus.BadFrame;
  }

  #fail(i: number, fault: TickFault): void {
    if (this.fault[i] === TickFault.None) {
      this.fault[i] = fault;
      this.invalid++;
    }
  }

  /**
   * Scans the tick map at `pos` (nesting level `level`: 1 for a single map, 2
   * in a batch) as tick `i`; returns the offset past it or < 0.
   */
  #tick(i: number, pos: number, level: number): number {
    const buf = this.#buf;
    const end = this.#end;
    this.start[i] = pos;
    this.fault[i] = TickFault.None;
    this.symLen[i] = 0;
    this.#multiKeys = 0;
    if (++this.#stamp === 0x7fffffff) {
      this.#seen1.fill(0);
      this.#stamp = 1;
    }
    const c = buf[pos]!;
    let n: number;
    if (c === 0xde) {
      if (pos + 3 > end) return MALFORMED;
      n = (buf[pos + 1]! << 8) | buf[pos + 2]!;
      pos += 3;
    } else if (c === 0xdf) {
      if (pos + 5 > end) return MALFORMED;
      n = readU32(buf, pos + 1);
      pos += 5;
    } else {
      n = c & 0x0f;
      pos += 1;
    }
    // Each entry takes at least two bytes.
    if (n > (end - pos) / 2) return MALFORMED;
    this.body[i] = pos;
    this.entries[i] = n;
    if (n > MAX_TICK_KEYS) this.#fail(i, TickFault.TooManyKeys);
    let seenS = false;
    let seenP = false;
    for (let k = 0; k < n; k++) {
      // --- key ---
      if (!this.#readStr(pos)) {
        pos = this.#skip(pos, level + 1);
        if (pos < 0) return pos;
        this.#fail(i, TickFault.NonStringKey);
        pos = this.#skip(pos, level + 1);
        if (pos < 0) return pos;
        continue;
      }
      const ks = this.#strStart;
      const kl = this.#strLen;
      pos = ks + kl;
      let role = K_OTHER;
      if (kl === 1) {
        const ch = buf[ks]!;
        if (ch === 0x73) role = K_S;
        else if (ch === 0x70) role = K_P;
        else if (ch === 0x71) role = K_Q;
        else if (ch === 0x62) role = K_B;
        else if (ch === 0x61) role = K_A;
        else if (ch === 0x74) role = K_T;
        else if (ch === 0x6e || ch === 0x72) this.#fail(i, TickFault.ReservedKey);
        else if (ch > 0x7f) this.#fail(i, TickFault.BadUtf8);
      } else if (kl > MAX_STRING_BYTES) {
        this.#fail(i, TickFault.KeyTooLong);
      } else if (!isUtf8(buf, ks, pos)) {
        this.#fail(i, TickFault.BadUtf8);
      } else if ((kl === 9 || kl === 11) && isForbiddenKey(buf, ks, kl)) {
        this.#fail(i, TickFault.ForbiddenKey);
      }
      if (kl === 1) {
        const ch = buf[ks]!;
        if (this.#seen1[ch] === this.#stamp) this.#fail(i, TickFault.DuplicateKey);
        else this.#seen1[ch] = this.#stamp;
      } else if (this.#multiKeys < MAX_TICK_KEYS && this.#isDuplicate(buf, ks, kl)) {
        this.#fail(i, TickFault.DuplicateKey);
      }
      // --- value ---
      const vpos = pos;
      pos = this.#value(pos);
      if (pos < 0) return pos;
      const kind = this.#kind;
      if (kind === V_CONTAINER) {
        pos = this.#skip(vpos, level + 1);
        if (pos < 0) return pos;
        this.#fail(i, TickFault.NestedValue);
        continue;
      }
      switch (role) {
        case K_S:
          seenS = true;
          if (kind !== V_STR || !this.#symbol(i)) this.#fail(i, TickFault.BadSymbol);
          break;
        case K_P:
          seenP = true;
          if (!this.#finite(kind)) this.#fail(i, TickFault.BadPrice);
          break;
        case K_Q:
          if (!this.#finite(kind) || !this.#nonNegative(kind)) this.#fail(i, TickFault.BadSize);
          break;
        case K_B:
          if (!this.#finite(kind)) this.#fail(i, TickFault.BadBid);
          break;
        case K_A:
          if (!this.#finite(kind)) this.#fail(i, TickFault.BadAsk);
          break;
        case K_T:
          if (!this.#time(kind)) this.#fail(i, TickFault.BadTime);
          break;
        default:
          if (kind === V_EXT) this.#fail(i, TickFault.ExtensionValue);
          else if (kind === V_BIN) this.#fail(i, TickFault.BinaryValue);
          else if (kind === V_STR) {
            if (this.#strLen > MAX_STRING_BYTES) this.#fail(i, TickFault.StringTooLong);
            else if (!isUtf8(buf, this.#strStart, this.#strStart + this.#strLen)) {
              this.#fail(i, TickFault.BadUtf8);
            }
          }
      }
    }
    if (!seenS) this.#fail(i, TickFault.MissingSymbol);
    else if (!seenP) this.#fail(i, TickFault.MissingPrice);
    this.end[i] = pos;
    return pos;
  }

  /** An int, or a float whose exponent bits are not all ones (not NaN/±Infinity). */
  #finite(kind: number): boolean {
    if (kind === V_INT) return true;
    if (kind !== V_FLOAT) return false;
    const buf = this.#buf;
    const at = this.#floatAt;
    return this.#floatWide
      ? (((buf[at]! & 0x7f) << 4) | (buf[at + 1]! >> 4)) !== 0x7ff
      : (((buf[at]! & 0x7f) << 1) | (buf[at + 1]! >> 7)) !== 0xff;
  }

  /** ≥ 0 (for a number already known to be finite); -0 counts as 0. */
  #nonNegative(kind: number): boolean {
    if (kind === V_INT) return this.#num >= 0;
    // Sign bit clear: ≥ 0 without decoding; otherwise only -0 qualifies.
    if ((this.#buf[this.#floatAt]! & 0x80) === 0) return true;
    this.#loadFloat();
    return this.#num === 0;
  }

  /**
   * Decodes the float last read by #value into #num. No double crosses a
   * call boundary (the helpers fill a scratch buffer that is read here): a
   * double returned from a call that is not inlined is boxed, a 16-byte
   * HeapNumber per tick (bench:pipeline went from 3.3 to 19.5 bytes/tick in
   * some runs), while the field's double storage is reused.
   */
  #loadFloat(): void {
    if (this.#floatWide) {
      loadF64(this.#buf, this.#floatAt);
      this.#num = F64[0]!;
    } else {
      loadF32(this.#buf, this.#floatAt);
      this.#num = F32[0]!;
    }
  }

  /** An integer ≥ 0; a float is accepted when it holds such an integer ≤ 2^53. */
  #time(kind: number): boolean {
    if (kind === V_INT) return this.#num >= 0;
    if (kind !== V_FLOAT) return false;
    this.#loadFloat();
    const t = this.#num;
    return Number.isInteger(t) && t >= 0 && t <= 9007199254740992; // 2^53
  }

  /** Validates the string just read as tick i's symbol and hashes it. */
  #symbol(i: number): boolean {
    const len = this.#strLen;
    if (len < 1 || len > MAX_SYMBOL_BYTES) return false;
    const buf = this.#buf;
    const s = this.#strStart;
    let h = 0x811c9dc5;
    for (let j = s; j < s + len; j++) {
      const ch = buf[j]!;
      if (SYMBOL_CHAR[ch] === 0) return false;
      h = Math.imul(h ^ ch, 0x01000193);
    }
    if (this.symLen[i] !== 0) return true; // duplicate `s`: reported as DuplicateKey
    this.symStart[i] = s;
    this.symLen[i] = len;
    this.symHash[i] = h;
    return true;
  }

  /** Checks a key of length ≠ 1 against this tick's other such keys, then records it. */
  #isDuplicate(buf: Uint8Array, ks: number, kl: number): boolean {
    const k = this.#multiKeys++;
    // `| 0` so that the hash of an empty key matches its Int32Array copy.
    let h = 0x811c9dc5 | 0;
    for (let j = ks; j < ks + kl; j++) h = Math.imul(h ^ buf[j]!, 0x01000193);
    const starts = this.#keyStart;
    const lens = this.#keyLen;
    const hashes = this.#keyHash;
    let dup = false;
    for (let j = 0; j < k && !dup; j++) {
      if (hashes[j] === h && lens[j] === kl && bytesEqual(buf, starts[j]!, ks, kl)) dup = true;
    }
    starts[k] = ks;
    lens[k] = kl;
    hashes[k] = h;
    return dup;
  }

  /** Reads a str header at pos into #strStart/#strLen; false if not a str or out of bounds. */
  #readStr(pos: number): boolean {
    const buf = this.#buf;
    const end = this.#end;
    if (pos >= end) return false;
    const c = buf[pos]!;
    let len: number;
    let s: number;
    if ((c & 0xe0) === 0xa0) {
      len = c & 0x1f;
      s = pos + 1;
    } else if (c === 0xd9) {
      if (pos + 2 > end) return false;
      len = buf[pos + 1]!;
      s = pos + 2;
    } else if (c === 0xda) {
      if (pos + 3 > end) return false;
      len = (buf[pos + 1]! << 8) | buf[pos + 2]!;
      s = pos + 3;
    } else if (c === 0xdb) {
      if (pos + 5 > end) return false;
      len = readU32(buf, pos + 1);
      s = pos + 5;
    } else {
      return false;
    }
    if (len > end - s) return false;
    this.#strStart = s;
    this.#strLen = len;
    return true;
  }

  /**
   * Reads one value at pos, classifying it into #kind (and #num / #str*).
   * Containers are not entered: #kind = V_CONTAINER and the caller skips.
   * Returns the offset past a scalar, or < 0 when malformed.
   */
  #value(pos: number): number {
    const buf = this.#buf;
    const end = this.#end;
    if (pos >= end) return MALFORMED;
    const c = buf[pos]!;
    if (c <= 0x7f) {
      this.#kind = V_INT;
      this.#num = c;
      return pos + 1;
    }
    if (c >= 0xe0) {
      this.#kind = V_INT;
      this.#num = c - 0x100;
      return pos + 1;
    }
    if (c <= 0x9f || c === 0xdc || c === 0xdd || c === 0xde || c === 0xdf) {
      this.#kind = V_CONTAINER;
      return pos;
    }
    if (c <= 0xbf || c === 0xd9 || c === 0xda || c === 0xdb) {
      if (!this.#readStr(pos)) return MALFORMED;
      this.#kind = V_STR;
      return this.#strStart + this.#strLen;
    }
    switch (c) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        this.#kind = V_NIL_BOOL;
        return pos + 1;
      case 0xca:
        if (pos + 5 > end) return MALFORMED;
        this.#kind = V_FLOAT;
        this.#floatAt = pos + 1;
        this.#floatWide = false;
        return pos + 5;
      case 0xcb:
        if (pos + 9 > end) return MALFORMED;
        this.#kind = V_FLOAT;
        this.#floatAt = pos + 1;
        this.#floatWide = true;
        return pos + 9;
      case 0xcc:
        if (pos + 2 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = buf[pos + 1]!;
        return pos + 2;
      case 0xcd:
        if (pos + 3 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = (buf[pos + 1]! << 8) | buf[pos + 2]!;
        return pos + 3;
      case 0xce:
        if (pos + 5 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = readU32(buf, pos + 1);
        return pos + 5;
      case 0xcf:
        if (pos + 9 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = readU32(buf, pos + 1) * 4294967296 + readU32(buf, pos + 5);
        return pos + 9;
      case 0xd0:
        if (pos + 2 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = (buf[pos + 1]! << 24) >> 24;
        return pos + 2;
      case 0xd1:
        if (pos + 3 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = (((buf[pos + 1]! << 8) | buf[pos + 2]!) << 16) >> 16;
        return pos + 3;
      case 0xd2:
        if (pos + 5 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = readU32(buf, pos + 1) | 0;
        return pos + 5;
      case 0xd3:
        if (pos + 9 > end) return MALFORMED;
        this.#kind = V_INT;
        this.#num = (readU32(buf, pos + 1) | 0) * 4294967296 + readU32(buf, pos + 5);
        return pos + 9;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        this.#kind = V_BIN;
        return this.#skip(pos, 1);
      case 0xc7:
      case 0xc8:
      case 0xc9:
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        this.#kind = V_EXT;
        return this.#skip(pos, 1);
      default:
        // 0xc1 is never used.
        return MALFORMED;
    }
  }

  /**
   * Skips any value at pos; `depth` is the nesting level it has if it is a
   * container (TOO_DEEP past MAX_DEPTH). Returns the offset past it,
   * MALFORMED or TOO_DEEP. Containers' counts are checked against the bytes
   * left before they are followed, so work stays linear in the frame size.
   */
  #skip(pos: number, depth: number): number {
    const buf = this.#buf;
    const end = this.#end;
    if (pos >= end) return MALFORMED;
    const c = buf[pos]!;
    let items = -1;
    let len = -1;
    let head = 1;
    if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return pos + 1;
    if (c <= 0x8f) {
      items = (c & 0x0f) * 2;
    } else if (c <= 0x9f) {
      items = c & 0x0f;
    } else if (c <= 0xbf) {
      len = c & 0x1f;
    } else {
      switch (c) {
        case 0xc4:
        case 0xd9:
          if (pos + 2 > end) return MALFORMED;
          len = buf[pos + 1]!;
          head = 2;
          break;
        case 0xc5:
        case 0xda:
          if (pos + 3 > end) return MALFORMED;
          len = (buf[pos + 1]! << 8) | buf[pos + 2]!;
          head = 3;
          break;
        case 0xc6:
        case 0xdb:
          if (pos + 5 > end) return MALFORMED;
          len = readU32(buf, pos + 1);
          head = 5;
          break;
        case 0xc7:
          if (pos + 2 > end) return MALFORMED;
          len = buf[pos + 1]! + 1;
          head = 2;
          break;
        case 0xc8:
          if (pos + 3 > end) return MALFORMED;
          len = ((buf[pos + 1]! << 8) | buf[pos + 2]!) + 1;
          head = 3;
          break;
        case 0xc9:
          if (pos + 5 > end) return MALFORMED;
          len = readU32(buf, pos + 1) + 1;
          head = 5;
          break;
        case 0xca:
          len = 4;
          break;
        case 0xcb:
          len = 8;
          break;
        case 0xcc:
        case 0xd0:
          len = 1;
          break;
        case 0xcd:
        case 0xd1:
          len = 2;
          break;
        case 0xce:
        case 0xd2:
          len = 4;
          break;
        case 0xcf:
        case 0xd3:
          len = 8;
          break;
        case 0xd4:
          len = 2;
          break;
        case 0xd5:
          len = 3;
          break;
        case 0xd6:
          len = 5;
          break;
        case 0xd7:
          len = 9;
          break;
        case 0xd8:
          len = 17;
          break;
        case 0xdc:
          if (pos + 3 > end) return MALFORMED;
          items = (buf[pos + 1]! << 8) | buf[pos + 2]!;
          head = 3;
          break;
        case 0xdd:
          if (pos + 5 > end) return MALFORMED;
          items = readU32(buf, pos + 1);
          head = 5;
          break;
        case 0xde:
          if (pos + 3 > end) return MALFORMED;
          items = ((buf[pos + 1]! << 8) | buf[pos + 2]!) * 2;
          head = 3;
          break;
        case 0xdf:
          if (pos + 5 > end) return MALFORMED;
          items = readU32(buf, pos + 1) * 2;
          head = 5;
          break;
        default:
          return MALFORMED; // 0xc1
      }
    }
    pos += head;
    if (len >= 0) {
      return len > end - pos ? MALFORMED : pos + len;
    }
    if (depth > MAX_DEPTH) return TOO_DEEP;
    if (items > end - pos) return MALFORMED;
    for (let j = 0; j < items; j++) {
      pos = this.#skip(pos, depth + 1);
      if (pos < 0) return pos;
    }
    return pos;
  }
}

/**
 * Checks that `buf` holds exactly one well-formed MessagePack value with
 * nesting ≤ MAX_DEPTH, no extension types, and declared lengths that fit.
 * Used before handing untrusted control messages to a general decoder
 * (msgpackr would preallocate arrays from hostile array16/32 headers).
 */
export function isSafeMessagePack(buf: Uint8Array): boolean {
  return SAFE_CHECKER.check(buf);
}

/**
 * End of the MessagePack value that starts at `pos` (same rules as
 * isSafeMessagePack: no ext types, nesting ≤ MAX_DEPTH, lengths that fit),
 * or -1.
 */
export function skipMessagePackValue(buf: Uint8Array, pos: number): number {
  return SAFE_CHECKER.skip(buf, pos);
}

class SafeChecker {
  #buf: Uint8Array = new Uint8Array(0);

  check(buf: Uint8Array): boolean {
    this.#buf = buf;
    return this.#walk(0, 0) === buf.length;
  }

  skip(buf: Uint8Array, pos: number): number {
    this.#buf = buf;
    return this.#walk(pos, 0);
  }

  #walk(pos: number, depth: number): number {
    const buf = this.#buf;
    const end = buf.length;
    if (pos >= end) return MALFORMED;
    const c = buf[pos]!;
    if ((c >= 0xc7 && c <= 0xc9) || (c >= 0xd4 && c <= 0xd8) || c === 0xc1) return MALFORMED;
    let items: number;
    let head: number;
    if ((c & 0xf0) === 0x80) {
      items = (c & 0x0f) * 2;
      head = 1;
    } else if ((c & 0xf0) === 0x90) {
      items = c & 0x0f;
      head = 1;
    } else if (c === 0xdc || c === 0xde) {
      if (pos + 3 > end) return MALFORMED;
      items = ((buf[pos + 1]! << 8) | buf[pos + 2]!) * (c === 0xde ? 2 : 1);
      head = 3;
    } else if (c === 0xdd || c === 0xdf) {
      if (pos + 5 > end) return MALFORMED;
      items = readU32(buf, pos + 1) * (c === 0xdf ? 2 : 1);
      head = 5;
    } else {
      return this.#scalar(pos);
    }
    // A container at depth d is nesting level d + 1.
    if (depth >= MAX_DEPTH) return MALFORMED;
    pos += head;
    if (items > end - pos) return MALFORMED;
    for (let j = 0; j < items; j++) {
      pos = this.#walk(pos, depth + 1);
      if (pos < 0) return pos;
    }
    return pos;
  }

  /** Skips one scalar (non-container, non-ext) with bounds checks. */
  #scalar(pos: number): number {
    const buf = this.#buf;
    const end = buf.length;
    const c = buf[pos]!;
    if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return pos + 1;
    let len: number;
    let head = 1;
    if ((c & 0xe0) === 0xa0) len = c & 0x1f;
    else if (c === 0xc4 || c === 0xd9) {
      if (pos + 2 > end) return MALFORMED;
      len = buf[pos + 1]!;
      head = 2;
    } else if (c === 0xc5 || c === 0xda) {
      if (pos + 3 > end) return MALFORMED;
      len = (buf[pos + 1]! << 8) | buf[pos + 2]!;
      head = 3;
    } else if (c === 0xc6 || c === 0xdb) {
      if (pos + 5 > end) return MALFORMED;
      len = readU32(buf, pos + 1);
      head = 5;
    } else if (c === 0xcc || c === 0xd0) len = 1;
    else if (c === 0xcd || c === 0xd1) len = 2;
    else if (c === 0xce || c === 0xd2 || c === 0xca) len = 4;
    else if (c === 0xcf || c === 0xd3 || c === 0xcb) len = 8;
    else return MALFORMED;
    pos += head;
    return len > end - pos ? MALFORMED : pos + len;
  }
}

const SAFE_CHECKER = new SafeChecker();

function readU32(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
}

/** Copies a big-endian float64 into the F64 scratch (read F64[0] at the call site). */
function loadF64(buf: Uint8Array, pos: number): void {
  if (LITTLE_ENDIAN) {
    for (let j = 0; j < 8; j++) F64_BYTES[j] = buf[pos + 7 - j]!;
  } else {
    for (let j = 0; j < 8; j++) F64_BYTES[j] = buf[pos + j]!;
  }
}

/** Copies a big-endian float32 into the F32 scratch (read F32[0] at the call site). */
function loadF32(buf: Uint8Array, pos: number): void {
  if (LITTLE_ENDIAN) {
    for (let j = 0; j < 4; j++) F32_BYTES[j] = buf[pos + 3 - j]!;
  } else {
    for (let j = 0; j < 4; j++) F32_BYTES[j] = buf[pos + j]!;
  }
}

function bytesEqual(buf: Uint8Array, a: number, b: number, len: number): boolean {
  for (let j = 0; j < len; j++) if (buf[a + j] !== buf[b + j]) return false;
  return true;
}

function isForbiddenKey(buf: Uint8Array, start: number, len: number): boolean {
  for (const key of FORBIDDEN_KEYS) {
    if (key.length === len) {
      let same = true;
      for (let j = 0; j < len && same; j++) same = buf[start + j] === key[j];
      if (same) return true;
    }
  }
  return false;
}

/** Strict UTF-8 validation (no overlongs, no surrogates, ≤ U+10FFFF). */
export function isUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + need >= end) return false;
    for (let j = 1; j <= need; j++) {
      const cc = buf[i + j]!;
      if ((cc & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
