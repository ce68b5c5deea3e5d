/**
 * Reads the records of one segment file forward, in large chunks: one
 * `readSync` per chunk (8 MiB by default), never one per record, so a
 * journal reads at about disk speed. Records are views into the chunk,
 * valid until the next call to `next()`.
 */
import { readSync } from 'node:fs';
import { KIND_UPDATE, MAX_RECORD_BYTES, RecordFault, checkRecord, getU64 } from './format.js';

/** Default chunk: large enough that reading is bound by the disk, not by syscalls. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** A chunk buffer for `SegmentScanner`: at least one maximal record long. */
export function chunkBuffer(bytes = CHUNK_BYTES): Buffer {
  return Buffer.allocUnsafe(Math.max(bytes, 2 * MAX_RECORD_BYTES));
}

export class SegmentScanner {
  readonly #fd: number;
  readonly #buf: Buffer;
  /** File offset where reading stops. */
  readonly #end: number;
  /** File offset of #buf[0]. */
  #bufStart: number;
  #bufLength = 0;
  /** Where the next record starts in #buf. */
  #pos = 0;

  /** RecordFault of the record at `faultOffset` when `next()` stopped on one; 0 if none. */
  fault = 0;
  faultOffset = -1;

  // The current record (after `next()` returned true).
  /** File offset of the record. */
  offset = 0;
  kind = 0;
  n = 0;
  r = 0;
  symbolStart = 0;
  symbolEnd = 0;
  updateStart = 0;
  updateEnd = 0;

  /** Scans `fd` from `start` (after the header) to `end`, using `buf` (see chunkBuffer). */
  constructor(fd: number, buf: Buffer, start: number, end: number) {
    this.#fd = fd;
    this.#buf = buf;
    this.#bufStart = start;
    this.#end = end;
  }

  /** The chunk the current record's offsets point into. */
  get bytes(): Buffer {
    return this.#buf;
  }

  /** File offset just past the last valid record: where a clean file ends. */
  get cleanEnd(): number {
    return this.#bufStart + this.#pos;
  }

  /** Moves to the next record: true if there is a valid one, false at the end or on a fault. */
  next(): boolean {
    if (this.fault !== 0) return false;
    if (this.#bufStart + this.#pos >= this.#end) return false;
    let size = checkRecord(this.#buf, this.#pos, this.#bufLength);
    if (size === RecordFault.Truncated && this.#bufStart + this.#bufLength < this.#end) {
      this.#refill();
      size = checkRecord(this.#buf, this.#pos, this.#bufLength);
    }
    if (size < 0) {
      this.fault = size;
      this.faultOffset = this.#bufStart + this.#pos;
      return false;
    }
    const buf = this.#buf;
    const p = this.#pos;
    const q = p + 8;
    this.offset = this.#bufStart + p;
    this.kind = buf[q]!;
    if (this.kind === KIND_UPDATE) {
      this.n = getU64(buf, q + 1);
      this.r = getU64(buf, q + 9);
      this.symbolStart = q + 18;
      this.symbolEnd = this.symbolStart + buf[q + 17]!;
      this.updateStart = this.symbolEnd;
      this.updateEnd = p + size;
    }
    this.#pos = p + size;
    return true;
  }

  /** Moves the unread bytes to the front and reads as much as fits, up to #end. */
  #refill(): void {
    const buf = this.#buf;
    const keep = this.#bufLength - this.#pos;
    buf.copyWithin(0, this.#pos, this.#bufLength);
    this.#bufStart += this.#pos;
    this.#pos = 0;
    this.#bufLength = keep;
    while (this.#bufLength < buf.length) {
      const at = this.#bufStart + this.#bufLength;
      const want = Math.min(buf.length - this.#bufLength, this.#end - at);
      if (want <= 0) break;
      const got = readSync(this.#fd, buf, this.#bufLength, want, at);
      if (got === 0) break; // the file is shorter than it was: the record shows as cut short
      this.#bufLength += got;
    }
  }
}

/**
 * Whether any valid record starts in `fd` at an offset in [from, end): the
 * test that tells a torn tail (nothing valid after the first bad record)
 * from damage in the middle. Scans windows of `buf` that overlap by one
 * maximal record, so a record that straddles two windows is still seen
 * whole. Cheap on a real torn tail: zeros and most garbage fail the length
 * or layout checks before any CRC is computed.
 */
export function findValidRecord(fd: number, buf: Buffer, from: number, end: number): number {
  let start = from;
  while (start < end) {
    const length = Math.min(buf.length, end - start);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    const last = start + got >= end ? got : got - MAX_RECORD_BYTES;
    for (let p = 0; p < last; p++) {
      if (checkRecord(buf, p, got) > 0) return start + p;
    }
    if (start + got >= end) break;
    start += last;
  }
  return -1;
}

/** Slots of the symbol cache (direct-mapped by a hash of the bytes). */
const SYMBOL_SLOTS = 1024;

/**
 * Symbol bytes to strings without decoding each record's symbol: a journal
 * holds few distinct symbols, and decoding one (utf8Slice plus a string) was
 * about 15% of a read. A hit costs a hash and a compare of a few bytes, and
 * hands back the same string each time.
 */
export class SymbolCache {
  readonly #bytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SYMBOL_SLOTS);
  readonly #strings: string[] = new Array<string>(SYMBOL_SLOTS).fill('');

  get(buf: Buffer, start: number, end: number): string {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h >>> 0) & (SYMBOL_SLOTS - 1);
    const known = this.#bytes[slot];
    if (known !== undefined && known.length === end - start) {
      let i = 0;
      while (i < known.length && known[i] === buf[start + i]) i++;
      if (i === known.length) return this.#strings[slot]!;
    }
    const symbol = buf.toString('utf8', start, end);
    this.#bytes[slot] = new Uint8Array(buf.subarray(start, end));
    this.#strings[slot] = symbol;
    return symbol;
  }
}
