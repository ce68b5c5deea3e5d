/**
 * The batch format a bus carries between nodes: consecutive updates of one
 * symbol, already numbered and stamped (each is the exact update bytes a
 * subscriber receives, `n` and `r` included).
 *
 *   u32 count | u32 firstN high | u32 firstN low | (u32 length | update bytes) × count
 *
 * Big-endian, like MessagePack. The header repeats what the updates hold so a
 * node can read the batch's sequence range without decoding any update.
 */
import { writeMapHeader, writeSeqAndTime, writeU32 } from './update-writer.js';

export const BATCH_HEADER = 12;
/** Bytes `n` and `r` add to a tick at most: "n" uint64 and "r" uint64. */
export const SEQ_AND_TIME_MAX = 22;

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
  for (const t of ticks) size += 4 + 3 + t.body.length + SEQ_AND_TIME_MAX;
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
