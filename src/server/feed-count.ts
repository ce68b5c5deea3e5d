/**
 * How many ticks a feed frame counts for, where the pipeline has not counted
 * them: what the rate limit charges before the frame is processed, and what
 * a frame refused whole (over the rate, or the bus not taking ticks) adds to
 * `ticks.received` and `ticks.rejected`. A batch header is a claim, not a
 * count: `dd ff ff ff ff` claims 4,294,967,295 elements in 5 bytes, and
 * `dc 10 00` 4,096 in 3. Only what the frame's bytes can hold is counted,
 * and a frame that is not well-formed (bad_frame) counts no tick and takes
 * no token.
 *
 * Pure functions of the bytes (and of the scanner's verdict on them): no
 * allocation, nothing kept.
 */
import { MAX_BATCH } from '../protocol/codes.js';
import { FrameStatus, type TickScanner } from '../protocol/tick-scanner.js';

/**
 * Elements a frame's top-level header declares, unchecked: 1 for a map, the
 * length of an array, 0 for anything else or a header cut short.
 */
export function declaredTicks(b: Uint8Array): number {
  const n = b.length;
  if (n === 0) return 0;
  const c = b[0]!;
  if ((c >= 0x80 && c <= 0x8f) || c === 0xde || c === 0xdf) return 1;
  if (c >= 0x90 && c <= 0x9f) return c & 0x0f;
  if (c === 0xdc) return n >= 3 ? (b[1]! << 8) | b[2]! : 0;
  if (c === 0xdd) return n >= 5 ? b[1]! * 0x1000000 + ((b[2]! << 16) | (b[3]! << 8) | b[4]!) : 0;
  return 0;
}

/** Bytes of a frame's top-level array header (0: not an array, or cut short). */
function arrayHeader(b: Uint8Array): number {
  const c = b[0]!;
  if (c >= 0x90 && c <= 0x9f) return 1;
  if (c === 0xdc) return b.length >= 3 ? 3 : 0;
  if (c === 0xdd) return b.length >= 5 ? 5 : 0;
  return 0;
}

/**
 * Tokens to take for a frame before it is scanned: its declared ticks when
 * the bytes after the header can hold that many elements (each takes at
 * least one byte: the scanner's first check) and they are at most
 * MAX_BATCH; else 0, for a frame the scanner will refuse whole (bad_frame,
 * payload_too_large), which takes no token. A frame charged here may still
 * turn out bad further in: the caller gives its tokens back then.
 */
export function chargeableTicks(b: Uint8Array): number {
  if (b.length === 0) return 0;
  const c = b[0]!;
  if ((c >= 0x80 && c <= 0x8f) || c === 0xde || c === 0xdf) return 1;
  const header = arrayHeader(b);
  if (header === 0) return 0;
  const n = declaredTicks(b);
  return n <= b.length - header && n <= MAX_BATCH ? n : 0;
}

/**
 * Ticks a frame counts as received, given the scanner's verdict on it
 * (`scanner` holds the result of scanning `b`): every element of a
 * well-formed frame; a batch over MAX_BATCH its declared length, which the
 * scanner has checked against the bytes before calling it too large; none
 * for a bad frame.
 */
export function receivedTicks(b: Uint8Array, status: FrameStatus, scanner: TickScanner): number {
  if (status === FrameStatus.Ok) return scanner.count;
  if (status === FrameStatus.TooLarge) return declaredTicks(b);
  return 0;
}
