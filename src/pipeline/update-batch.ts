/**
 * The batch format a bus carries between nodes: consecutive updates of one
 * symbol, already numbered and stamped (each is the exact update bytes a
 * subscriber receives, `n` and `r` included).
 *
 *   u32 count | u32 firstN high | u32 firstN low | (u32 length | update bytes) × count
 *
 * Big-endian, like MessagePack. The header repeats what the updates hold so a
 * node can read the batch's sequence range without decoding any update.
 *
 * The stream's subjects are open to any NATS client, so what a node reads
 * back is checked with `checkBatch` before anything trusts its header.
 */
import { MAX_TICK_KEYS } from '../protocol/codes.js';
import { writeMapHeader, writeSeqAndTime, writeU32 } from './update-writer.js';

export const BATCH_HEADER = 12;
/** Bytes `n` and `r` add to a tick at most: "n" uint64 and "r" uint64. */
const SEQ_AND_TIME_MAX = 22;
/** Bytes a tick's body takes in a batch beyond itself, at most: length, map16 header, n and r. */
export const UPDATE_OVERHEAD_MAX = 4 + 3 + SEQ_AND_TIME_MAX;
/**
 * The smallest update as encodeBatch writes it: a fixmap header, "s" with a
 * one-byte symbol, "p" with a fixint (6 bytes), n as uint32 (7) and r (11).
 */
const MIN_UPDATE = 1 + 6 + 7 + 11;

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function batchCount(batch: Uint8Array): number {
  return readU32(batch, 0);
}

export function batchFirstN(batch: Uint8Array): number {
  return readU32(batch, 4) * 4294967296 + readU32(batch, 8);
}

export function batchLastN(batch: Uint8Array): number {
  return batchFirstN(batch) + batchCount(batch) - 1;
}

/** A validated tick waiting for its sequence number: map entries, body bytes, receive time. */
export interface PendingTick {
  /** Key/value pairs in the feed's map (n and r are added). */
  readonly entries: number;
  /** The feed's key/value bytes, exactly as sent. */
  readonly body: Uint8Array;
  /** Server receive time, µs since the epoch. */
  readonly rUs: number;
}

/** Encodes `ticks` numbered from `firstN` as one batch. */
export function encodeBatch(ticks: readonly PendingTick[], firstN: number): Uint8Array {
  let size = BATCH_HEADER;
  for (const t of ticks) size += UPDATE_OVERHEAD_MAX + t.body.length;
  const out = new Uint8Array(size);
  writeU32(out, 0, ticks.length);
  writeU32(out, 4, Math.floor(firstN / 4294967296));
  writeU32(out, 8, firstN >>> 0);
  let w = BATCH_HEADER;
  for (let k = 0; k < ticks.length; k++) {
    const t = ticks[k]!;
    const lenAt = w;
    w += 4;
    const start = w;
    w = writeMapHeader(out, w, t.entries + 2);
    out.set(t.body, w);
    w += t.body.length;
    w = writeSeqAndTime(out, w, firstN + k, Math.floor(t.rUs / 4294967296), t.rUs >>> 0);
    writeU32(out, lenAt, w - start);
  }
  return out.subarray(0, w);
}

/** The updates of a batch, as views (for tests and tools; the pipeline walks it in place). */
export function decodeBatch(batch: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let r = BATCH_HEADER;
  for (let k = 0; k < batchCount(batch); k++) {
    const len = readU32(batch, r);
    out.push(batch.subarray(r + 4, r + 4 + len));
    r += 4 + len;
  }
  return out;
}

/** The `r` of an update: its last 8 bytes (the server writes "r" uint64 last). */
export function updateTimeUs(update: Uint8Array, end: number): number {
  return readU32(update, end - 8) * 4294967296 + readU32(update, end - 4);
}

/**
 * Why `batch` is not a batch as encodeBatch writes it for the symbol spelled
 * by `symbol` (undefined when it is one). Checked: the header (at least one
 * update, a count the bytes can hold, first n ≥ 1), every length within the
 * message and the lengths covering it exactly, and every update: a map of
 * string keys and scalar values whose "s" is the symbol, ending with "n"
 * (the header's numbering) and "r" as the server writes them. Nothing is
 * read outside `batch`, and nothing is allocated.
 */
export function checkBatch(batch: Uint8Array, symbol: Uint8Array): string | undefined {
  const size = batch.length;
  if (size < BATCH_HEADER) return 'shorter than a batch header';
  const count = batchCount(batch);
  if (count === 0) return 'no updates';
  if (count > (size - BATCH_HEADER) / (4 + MIN_UPDATE)) return `${count} updates cannot fit`;
  const firstN = batchFirstN(batch);
  if (firstN < 1 || firstN + count - 1 > Number.MAX_SAFE_INTEGER) return `first n ${firstN}`;
  let r = BATCH_HEADER;
  for (let k = 0; k < count; k++) {
    if (size - r < 4) return 'truncated';
    const len = readU32(batch, r);
    r += 4;
    if (len > size - r) return `update ${k}: length past the end`;
    const fault = checkUpdate(batch, r, r + len, firstN + k, symbol);
    if (fault !== undefined) return `update ${k}: ${fault}`;
    r += len;
  }
  return r === size ? undefined : 'trailing bytes';
}

/** checkBatch for one update, b[start, end), numbered `n`. */
function checkUpdate(
  b: Uint8Array,
  start: number,
  end: number,
  n: number,
  symbol: Uint8Array,
): string | undefined {
  let r = start;
  if (end - r < MIN_UPDATE) return 'too short';
  let entries: number;
  const h = b[r]!;
  if (h >= 0x80 && h <= 0x8f) {
    entries = h & 0x0f;
    r += 1;
  } else if (h === 0xde) {
    entries = (b[r + 1]! << 8) | b[r + 2]!;
    r += 3;
  } else {
    return 'not a map';
  }
  if (entries < 4 || entries > MAX_TICK_KEYS + 2) return `${entries} keys`;
  let sawSymbol = false;
  for (let e = 0; e < entries - 2; e++) {
    // Key: a string.
    const key = stringAt(b, r, end);
    if (key < 0) return 'a key is not a string';
    const keyStart = r + stringHeader(b[r]!);
    const keyLen = key - keyStart;
    r = key;
    if (keyLen === 1 && (b[keyStart] === 0x6e || b[keyStart] === 0x72)) return 'n or r inside';
    if (r >= end) return 'truncated';
    if (keyLen === 1 && b[keyStart] === 0x73) {
      // "s": the subject's symbol, as a string.
      const v = stringAt(b, r, end);
      if (v < 0) return 's is not a string';
      const vStart = r + stringHeader(b[r]!);
      if (v - vStart !== symbol.length) return 'symbol does not match the subject';
      for (let j = 0; j < symbol.length; j++) {
        if (b[vStart + j] !== symbol[j]) return 'symbol does not match the subject';
      }
      sawSymbol = true;
      r = v;
    } else {
      const v = scalarEnd(b, r, end);
      if (v < 0) return 'a value is not a scalar';
      r = v;
    }
  }
  if (!sawSymbol) return 'no symbol';
  // "n": uint32, or uint64 past 2^32 (writeSeqAndTime).
  if (end - r < 2 || b[r] !== 0xa1 || b[r + 1] !== 0x6e) return 'no n';
  r += 2;
  if (n <= 0xffffffff) {
    if (end - r < 5 || b[r] !== 0xce || readU32(b, r + 1) !== n)
      return 'n does not match the header';
    r += 5;
  } else {
    if (end - r < 9 || b[r] !== 0xcf || readU32(b, r + 1) * 4294967296 + readU32(b, r + 5) !== n)
      return 'n does not match the header';
    r += 9;
  }
  // "r": uint64, last.
  if (end - r !== 11 || b[r] !== 0xa1 || b[r + 1] !== 0x72 || b[r + 2] !== 0xcf) return 'no r';
  return undefined;
}

/** Header bytes of the string whose type byte is `t` (fixstr, str8/16/32). */
function stringHeader(t: number): number {
  if (t >= 0xa0 && t <= 0xbf) return 1;
  return t === 0xd9 ? 2 : t === 0xda ? 3 : 5;
}

/** End of the string at b[r] (within `end`), or -1 if there is none. */
function stringAt(b: Uint8Array, r: number, end: number): number {
  const t = b[r]!;
  let len: number;
  let at: number;
  if (t >= 0xa0 && t <= 0xbf) {
    len = t & 0x1f;
    at = r + 1;
  } else if (t === 0xd9) {
    if (end - r < 2) return -1;
    len = b[r + 1]!;
    at = r + 2;
  } else if (t === 0xda) {
    if (end - r < 3) return -1;
    len = (b[r + 1]! << 8) | b[r + 2]!;
    at = r + 3;
  } else if (t === 0xdb) {
    if (end - r < 5) return -1;
    len = readU32(b, r + 1);
    at = r + 5;
  } else {
    return -1;
  }
  return len <= end - at ? at + len : -1;
}

/** End of the scalar (nil, bool, number, string) at b[r] (within `end`), or -1. */
function scalarEnd(b: Uint8Array, r: number, end: number): number {
  const t = b[r]!;
  let size: number;
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) size = 1;
  else if (t === 0xcc || t === 0xd0) size = 2;
  else if (t === 0xcd || t === 0xd1) size = 3;
  else if (t === 0xce || t === 0xd2 || t === 0xca) size = 5;
  else if (t === 0xcf || t === 0xd3 || t === 0xcb) size = 9;
  else return stringAt(b, r, end);
  return size <= end - r ? r + size : -1;
}
