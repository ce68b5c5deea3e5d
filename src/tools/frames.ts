/**
 * What a subscriber receives on /stream (MessagePack), split without
 * re-encoding anything: the byte ranges of the updates a frame carries (one
 * map, or an array of maps), the ticks of a snapshot and its epoch, or a
 * control message (decoded; they are small). The recorder stores each
 * update's bytes exactly as the server sent them.
 *
 * An update is told from a control message by its shape (a map ending in
 * `n` and `r`, with a string `s`), not by an `op` key: a tick may carry any
 * extra scalar key, `op` included.
 */
import { Unpackr } from 'msgpackr';
import { skipMessagePackValue } from '../protocol/tick-scanner.js';
import { readUpdate } from './strip.js';

export type SubscriberFrame =
  /** `bounds`: start and end of each update, flattened ([s0, e0, s1, e1, …]). */
  | { readonly kind: 'updates'; readonly bounds: number[] }
  | { readonly kind: 'snapshot'; readonly epoch: string; readonly bounds: number[] }
  | { readonly kind: 'control'; readonly message: Readonly<Record<string, unknown>> }
  | { readonly kind: 'unknown'; readonly why: string };

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const decoder = new TextDecoder();

/** [count, offset of the first item] of the array at `pos`, or undefined. */
function arrayHeader(buf: Uint8Array, pos: number): [number, number] | undefined {
  const c = buf[pos];
  if (c === undefined) return undefined;
  if ((c & 0xf0) === 0x90) return [c & 0x0f, pos + 1];
  if (c === 0xdc && pos + 3 <= buf.length) return [(buf[pos + 1]! << 8) | buf[pos + 2]!, pos + 3];
  if (c === 0xdd && pos + 5 <= buf.length) {
    const n = ((buf[pos + 1]! << 24) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 8)) >>> 0;
    return [n + buf[pos + 4]!, pos + 5];
  }
  return undefined;
}

/** [count, offset of the first key] of the map at `pos`, or undefined. */
function mapHeader(buf: Uint8Array, pos: number): [number, number] | undefined {
  const c = buf[pos];
  if (c === undefined) return undefined;
  if ((c & 0xf0) === 0x80) return [c & 0x0f, pos + 1];
  if (c === 0xde && pos + 3 <= buf.length) return [(buf[pos + 1]! << 8) | buf[pos + 2]!, pos + 3];
  return undefined;
}

/** The string at `pos` (fixstr, str8, str16), or undefined. */
function stringAt(buf: Uint8Array, pos: number): string | undefined {
  const c = buf[pos]!;
  let start: number;
  let len: number;
  if ((c & 0xe0) === 0xa0) [start, len] = [pos + 1, c & 0x1f];
  else if (c === 0xd9) [start, len] = [pos + 2, buf[pos + 1] ?? 0];
  else if (c === 0xda) [start, len] = [pos + 3, ((buf[pos + 1] ?? 0) << 8) | (buf[pos + 2] ?? 0)];
  else return undefined;
  return start + len <= buf.length ? decoder.decode(buf.subarray(start, start + len)) : undefined;
}

/** The bounds of the `count` values from `pos`, or undefined unless they end at the end of `buf`. */
function itemBounds(buf: Uint8Array, count: number, pos: number): number[] | undefined {
  const bounds: number[] = [];
  for (let i = 0; i < count; i++) {
    const end = skipMessagePackValue(buf, pos);
    if (end < 0) return undefined;
    bounds.push(pos, end);
    pos = end;
  }
  return pos === buf.length ? bounds : undefined;
}

function isUpdate(buf: Uint8Array): boolean {
  try {
    return readUpdate(buf).symbolStart >= 0;
  } catch {
    return false;
  }
}

/** Splits one binary frame from /stream. */
export function splitFrame(buf: Uint8Array): SubscriberFrame {
  const array = arrayHeader(buf, 0);
  if (array !== undefined) {
    const bounds = itemBounds(buf, array[0], array[1]);
    return bounds === undefined
      ? { kind: 'unknown', why: 'an array that is not a list of values' }
      : { kind: 'updates', bounds };
  }
  const map = mapHeader(buf, 0);
  if (map === undefined) return { kind: 'unknown', why: 'neither a map nor an array' };
  if (isUpdate(buf)) return { kind: 'updates', bounds: [0, buf.length] };
  // A control message: `{op:"snapshot", epoch, ticks:[…]}` is split here, the rest decoded.
  let op: string | undefined;
  let epoch: string | undefined;
  let ticks = -1;
  let pos = map[1];
  for (let i = 0; i < map[0]; i++) {
    const key = stringAt(buf, pos);
    const value = skipMessagePackValue(buf, pos);
    if (value < 0) return { kind: 'unknown', why: 'a malformed map' };
    if (key === 'op') op = stringAt(buf, value);
    else if (key === 'epoch') epoch = stringAt(buf, value);
    else if (key === 'ticks') ticks = value;
    pos = skipMessagePackValue(buf, value);
    if (pos < 0) return { kind: 'unknown', why: 'a malformed map' };
  }
  if (op === 'snapshot' && epoch !== undefined && ticks >= 0) {
    const header = arrayHeader(buf, ticks);
    const end = header === undefined ? -1 : skipMessagePackValue(buf, ticks);
    const bounds =
      header === undefined || end < 0
        ? undefined
        : itemBounds(buf.subarray(0, end), header[0], header[1]);
    return bounds === undefined
      ? { kind: 'unknown', why: 'a snapshot whose ticks are not a list' }
      : { kind: 'snapshot', epoch, bounds };
  }
  try {
    const message: unknown = unpackr.unpack(buf);
    if (typeof message === 'object' && message !== null && !Array.isArray(message)) {
      return { kind: 'control', message: message as Record<string, unknown> };
    }
  } catch {
    // Falls through.
  }
  return { kind: 'unknown', why: 'an undecodable map' };
}
