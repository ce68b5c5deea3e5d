/**
 * An update as the server stores and sends it is the feed's tick map with
 * two pairs appended last, `n` (uint32 0xce, or uint64 0xcf past 2^32) and
 * `r` (uint64 0xcf, µs), and its map header's count raised by 2
 * (src/pipeline/update-writer.ts). `readUpdate` finds those two pairs (and
 * the symbol) by walking the map; `stripInto` / `stripUpdate` give the tick
 * back: the feed's pairs byte for byte (its own `t` included), under a map
 * header whose count is 2 lower. The header is written the way the server
 * writes one (fixmap below 16 pairs, else map16, map32 past 65535), so a
 * tick from a canonical encoder comes back as it was sent.
 *
 * Pure functions: nothing here keeps state between calls.
 */
import { writeMapHeader } from '../pipeline/update-writer.js';
import { MAX_TICK_KEYS } from '../protocol/codes.js';
import { skipMessagePackValue } from '../protocol/tick-scanner.js';
import { ToolError } from './cli.js';

/** Where the parts of an update are, in the buffer it was read from. */
export interface UpdateLayout {
  /** Pairs in the update, `n` and `r` included. */
  readonly entries: number;
  /** First byte of the first key (just past the map header). */
  readonly bodyStart: number;
  /** First byte of the `n` key: where the feed's pairs end. */
  readonly trailerStart: number;
  /** Just past the update (the end of `r`'s value). */
  readonly end: number;
  readonly n: number;
  readonly r: number;
  /** The bytes of the `s` value (a string), or -1 / -1 when there is none. */
  readonly symbolStart: number;
  readonly symbolEnd: number;
}

function refuse(why: string): never {
  throw new ToolError('bad_update', `not an update: ${why}`);
}

/** An unsigned MessagePack integer at `pos` (fixint, uint8–uint64, safe values only), or -1. */
function readUint(buf: Uint8Array, pos: number, end: number): { value: number; next: number } {
  const c = pos < end ? buf[pos]! : -1;
  if (c >= 0 && c <= 0x7f) return { value: c, next: pos + 1 };
  const width = c === 0xcc ? 1 : c === 0xcd ? 2 : c === 0xce ? 4 : c === 0xcf ? 8 : 0;
  if (width === 0 || pos + 1 + width > end) return { value: -1, next: pos };
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + buf[pos + i]!;
  return Number.isSafeInteger(value) ? { value, next: pos + 1 + width } : { value: -1, next: pos };
}

/** Whether the bytes at `pos` are the fixstr key of one ASCII letter `key`. */
function isKey(buf: Uint8Array, pos: number, key: number): boolean {
  return buf[pos] === 0xa1 && buf[pos + 1] === key;
}

/** The string value at `pos` as [start, end) of its bytes, or undefined. */
function stringAt(buf: Uint8Array, pos: number, end: number): [number, number] | undefined {
  const c = buf[pos]!;
  let start: number;
  let len: number;
  if ((c & 0xe0) === 0xa0) [start, len] = [pos + 1, c & 0x1f];
  else if (c === 0xd9 && pos + 2 <= end) [start, len] = [pos + 2, buf[pos + 1]!];
  else return undefined;
  return start + len <= end ? [start, start + len] : undefined;
}

/**
 * The layout of the update in `buf[start, end)`; throws `bad_update` unless
 * it is one map, filling the range exactly, whose last two keys are `n` and
 * `r` with unsigned integer values.
 */
export function readUpdate(buf: Uint8Array, start = 0, end = buf.length): UpdateLayout {
  if (start >= end) refuse('empty');
  const c = buf[start]!;
  let entries: number;
  let bodyStart: number;
  if ((c & 0xf0) === 0x80) [entries, bodyStart] = [c & 0x0f, start + 1];
  else if (c === 0xde && start + 3 <= end)
    [entries, bodyStart] = [(buf[start + 1]! << 8) | buf[start + 2]!, start + 3];
  else if (c === 0xdf && start + 5 <= end) {
    const b = buf.subarray(start + 1, start + 5);
    [entries, bodyStart] = [
      ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0,
      start + 5,
    ];
  } else refuse(`not a map (first byte 0x${c.toString(16)})`);
  if (entries < 2) refuse(`a map of ${entries} pairs cannot end with n and r`);
  // A tick has at most MAX_TICK_KEYS keys, so the stripped header is a fixmap or map16.
  if (entries - 2 > MAX_TICK_KEYS)
    refuse(`${entries - 2} pairs besides n and r: more than a tick has`);
  let pos = bodyStart;
  let symbolStart = -1;
  let symbolEnd = -1;
  for (let i = 0; i < entries - 2; i++) {
    const isSymbol = isKey(buf, pos, 0x73) && pos + 2 < end;
    pos = skipMessagePackValue(buf, pos);
    if (pos < 0 || pos >= end) refuse(`pair ${i + 1} is malformed or cut short`);
    if (isSymbol && symbolStart < 0) {
      const s = stringAt(buf, pos, end);
      if (s !== undefined) [symbolStart, symbolEnd] = s;
    }
    pos = skipMessagePackValue(buf, pos);
    if (pos < 0 || pos > end) refuse(`pair ${i + 1} is malformed or cut short`);
  }
  const trailerStart = pos;
  if (!isKey(buf, pos, 0x6e)) refuse('the next-to-last key is not "n"');
  const n = readUint(buf, pos + 2, end);
  if (n.value < 0) refuse('"n" is not an unsigned integer');
  if (!isKey(buf, n.next, 0x72)) refuse('the last key is not "r"');
  const r = readUint(buf, n.next + 2, end);
  if (r.value < 0) refuse('"r" is not an unsigned integer');
  if (r.next !== end) refuse(`${end - r.next} bytes after "r"`);
  return { entries, bodyStart, trailerStart, end, n: n.value, r: r.value, symbolStart, symbolEnd };
}

/**
 * Bytes of the map header for `entries` pairs, as the server writes it
 * (writeMapHeader: fixmap, or map16 since a tick has at most 64 keys).
 */
export function mapHeaderBytes(entries: number): number {
  return entries < 16 ? 1 : 3;
}

/** Bytes the tick of `layout` takes (never more than the update). */
export function strippedBytes(layout: UpdateLayout): number {
  return mapHeaderBytes(layout.entries - 2) + layout.trailerStart - layout.bodyStart;
}

/**
 * Writes the tick of the update `buf` (laid out as `layout`, from
 * readUpdate) into `out` at `w`: returns the offset after it. `out` must
 * hold strippedBytes(layout) bytes from `w`.
 */
export function stripInto(
  buf: Uint8Array,
  layout: UpdateLayout,
  out: Uint8Array,
  w: number,
): number {
  w = writeMapHeader(out, w, layout.entries - 2);
  out.set(buf.subarray(layout.bodyStart, layout.trailerStart), w);
  return w + layout.trailerStart - layout.bodyStart;
}

/** The tick the feed sent for `update` (a new array); throws `bad_update` (see readUpdate). */
export function stripUpdate(update: Uint8Array): Uint8Array {
  const layout = readUpdate(update);
  const out = new Uint8Array(strippedBytes(layout));
  stripInto(update, layout, out, 0);
  return out;
}
