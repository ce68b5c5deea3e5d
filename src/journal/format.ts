/**
 * The journal's on-disk format, version 1 (docs/journal.md is the reference
 * for other languages; keep the two in step).
 *
 * A journal is a directory of segment files named by the index of their
 * first record, 20 zero-padded digits + ".twj", so lexical order is append
 * order. A segment is a header followed by records; every integer is
 * big-endian.
 *
 * Header (HEADER_BYTES = 60 in v1):
 *   0  4  magic "TWJ1"
 *   4  2  format version (1)
 *   6  2  header length: records start here (a later v1 writer may append
 *         fields after byte 60 that older readers skip)
 *   8  1  epoch length E (1..31)
 *   9  31 epoch, E ASCII bytes of [A-Za-z0-9-], then zeros
 *  40  8  index of the segment's first record (same as the file name)
 *  48  8  creation time, µs since the Unix epoch
 *  56  4  CRC-32 of bytes 0..55
 *
 * Record: u32 payload length L (1..MAX_PAYLOAD_BYTES), u32 CRC-32 of the
 * payload, L payload bytes. Update payload (kind 1): kind u8, n u64, r u64
 * (µs), symbol length S u8 (1..64), S bytes of UTF-8 symbol, then the
 * update's MessagePack bytes (L - 18 - S of them, at least 1).
 * Kinds 128..255 are reserved for optional records a reader skips (they
 * still take a record index); any other kind is malformed.
 */
import { isServerEpoch } from '../pipeline/epoch.js';
import { crc32 } from './crc32.js';
import { JournalError, JournalErrorCode } from './errors.js';

export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 60;
/** A header length field above this is damage, not an extension. */
export const MAX_HEADER_BYTES = 4096;
export const RECORD_HEADER_BYTES = 8;
export const KIND_UPDATE = 1;
export const FIRST_SKIPPABLE_KIND = 128;
/** Kind, n, r and the symbol length byte. */
export const UPDATE_FIXED_BYTES = 18;
export const MAX_SYMBOL_BYTES = 64;
export const MAX_UPDATE_BYTES = 1024 * 1024;
export const MAX_PAYLOAD_BYTES = UPDATE_FIXED_BYTES + MAX_SYMBOL_BYTES + MAX_UPDATE_BYTES;
export const MAX_RECORD_BYTES = RECORD_HEADER_BYTES + MAX_PAYLOAD_BYTES;
export const SEGMENT_SUFFIX = '.twj';

const MAGIC = [0x54, 0x57, 0x4a, 0x31]; // "TWJ1"
const EPOCH_AT = 9;
const MAX_EPOCH_BYTES = 31;
const FIRST_INDEX_AT = 40;
const CREATED_AT = 48;
const HEADER_CRC_AT = 56;
const SEGMENT_NAME = /^(\d{20})\.twj$/;
export const TWO32 = 4294967296;
/** Largest high half of a u64 that is still a safe integer (2^53 - 1). */
const MAX_SAFE_HI = 0x1fffff;

/** File name of the segment whose first record has index `firstIndex`. */
export function segmentName(firstIndex: number): string {
  return String(firstIndex).padStart(20, '0') + SEGMENT_SUFFIX;
}

/**
 * The first-record index a segment file name stands for; undefined when the
 * name is not a segment's (ends in ".twj" but not 20 digits, or unsafe).
 */
export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return undefined;
  const index = Number(m[1]);
  return Number.isSafeInteger(index) && index >= 1 ? index : undefined;
}

export function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

export function getU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** A u64 from a safe integer, as two u32 halves (no BigInt). */
export function putU64(out: Uint8Array, at: number, v: number): void {
  putU32(out, at, v > 0xffffffff ? Math.floor(v / TWO32) : 0);
  putU32(out, at + 4, v >>> 0);
}

/** A u64 as a number; -1 when it is above 2^53 - 1. */
export function getU64(buf: Uint8Array, at: number): number {
  const hi = getU32(buf, at);
  return hi > MAX_SAFE_HI ? -1 : hi * TWO32 + getU32(buf, at + 4);
}

export interface SegmentHeader {
  readonly version: number;
  /** Where records start. */
  readonly headerBytes: number;
  readonly epoch: string;
  readonly firstIndex: number;
  readonly createdUs: number;
}

/** Writes a v1 header at `out[at]` (HEADER_BYTES bytes). */
export function writeHeader(
  out: Uint8Array,
  at: number,
  epoch: string,
  firstIndex: number,
  createdUs: number,
): void {
  out.fill(0, at, at + HEADER_BYTES);
  out.set(MAGIC, at);
  out[at + 4] = 0;
  out[at + 5] = FORMAT_VERSION;
  out[at + 6] = HEADER_BYTES >>> 8;
  out[at + 7] = HEADER_BYTES & 0xff;
  out[at + 8] = epoch.length;
  for (let i = 0; i < epoch.length; i++) out[at + EPOCH_AT + i] = epoch.charCodeAt(i);
  putU64(out, at + FIRST_INDEX_AT, firstIndex);
  putU64(out, at + CREATED_AT, createdUs);
  putU32(out, at + HEADER_CRC_AT, crc32(out, at, at + HEADER_CRC_AT));
}

function corrupt(file: string, why: string): JournalError {
  return new JournalError(JournalErrorCode.Corrupt, `journal: ${file}: ${why}`);
}

/**
 * Decodes and checks the header in `buf[0, HEADER_BYTES)`. Magic first, then
 * the version (a later version may lay out the rest differently), then the
 * CRC and the fields. `expectFirst` is the index the file name gives.
 */
export function readHeader(buf: Uint8Array, file: string, expectFirst: number): SegmentHeader {
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw corrupt(file, 'not a tickwire journal segment (magic)');
  }
  const version = (buf[4]! << 8) | buf[5]!;
  if (version !== FORMAT_VERSION) {
    throw new JournalError(
      JournalErrorCode.UnsupportedVersion,
      `journal: ${file}: format version ${version}; this build reads version ${FORMAT_VERSION}`,
    );
  }
  if (getU32(buf, HEADER_CRC_AT) !== crc32(buf, 0, HEADER_CRC_AT)) {
    throw corrupt(file, 'header CRC mismatch');
  }
  const headerBytes = (buf[6]! << 8) | buf[7]!;
  if (headerBytes < HEADER_BYTES || headerBytes > MAX_HEADER_BYTES) {
    throw corrupt(file, `header length ${headerBytes}`);
  }
  const epochLength = buf[8]!;
  let epoch = '';
  if (epochLength <= MAX_EPOCH_BYTES) {
    for (let i = 0; i < epochLength; i++) epoch += String.fromCharCode(buf[EPOCH_AT + i]!);
  }
  if (!isServerEpoch(epoch)) throw corrupt(file, 'epoch is not 1-31 characters of [A-Za-z0-9-]');
  const firstIndex = getU64(buf, FIRST_INDEX_AT);
  if (firstIndex !== expectFirst) {
    throw corrupt(file, `header says first record ${firstIndex}, the file name ${expectFirst}`);
  }
  const createdUs = getU64(buf, CREATED_AT);
  if (createdUs < 0) throw corrupt(file, 'creation time out of range');
  return { version, headerBytes, epoch, firstIndex, createdUs };
}

/** Why a record is not valid (negative, so `checkRecord` can return them). */
export const RecordFault = {
  /** The bytes end inside the record. */
  Truncated: -1,
  /** Length field 0 or above MAX_PAYLOAD_BYTES. */
  BadLength: -2,
  BadCrc: -3,
  /** The payload breaks the layout (kind, symbol length, n/r range); checked before the CRC. */
  Malformed: -4,
} as const;

export function describeFault(fault: number): string {
  switch (fault) {
    case RecordFault.Truncated:
      return 'record cut short';
    case RecordFault.BadLength:
      return 'record length out of range';
    case RecordFault.BadCrc:
      return 'record CRC mismatch';
    default:
      return 'record payload malformed';
  }
}

/**
 * Checks the record starting at `buf[p]`, with bytes available up to `end`:
 * its total size (header + payload) when it is valid, else a RecordFault.
 */
export function checkRecord(buf: Uint8Array, p: number, end: number): number {
  if (end - p < RECORD_HEADER_BYTES) return RecordFault.Truncated;
  const length = getU32(buf, p);
  if (length < 1 || length > MAX_PAYLOAD_BYTES) return RecordFault.BadLength;
  const q = p + RECORD_HEADER_BYTES;
  if (end - q < length) return RecordFault.Truncated;
  const kind = buf[q]!;
  // Layout checks before the CRC: the resync scan over a damaged tail calls
  // this at every byte offset, and most offsets fail here cheaply.
  if (kind === KIND_UPDATE) {
    if (length < UPDATE_FIXED_BYTES + 2) return RecordFault.Malformed;
    const symbolBytes = buf[q + 17]!;
    if (
      symbolBytes < 1 ||
      symbolBytes > MAX_SYMBOL_BYTES ||
      UPDATE_FIXED_BYTES + symbolBytes >= length ||
      getU32(buf, q + 1) > MAX_SAFE_HI ||
      getU32(buf, q + 9) > MAX_SAFE_HI
    ) {
      return RecordFault.Malformed;
    }
  } else if (kind < FIRST_SKIPPABLE_KIND) {
    return RecordFault.Malformed;
  }
  if (crc32(buf, q, q + length) !== getU32(buf, p + 4)) return RecordFault.BadCrc;
  return RECORD_HEADER_BYTES + length;
}
