/**
 * Where a control message's `id` sits in the bytes or text the client sent,
 * so that a pong can carry it back exactly as sent.
 *
 * Why not echo the decoded value: decoding and re-encoding is lossy at the
 * edges. msgpackr turns a uint64 above 2^53 into a float, renames a
 * `__proto__` key and stringifies integer map keys; JSON.parse rounds
 * integers past 2^53. `{op:"ping", id:ANY}` promises the client its id back,
 * so when the reply goes out in the encoding the request came in, the
 * server copies the id's bytes instead.
 */
import { skipMessagePackValue } from './tick-scanner.js';

const ENCODER = new TextEncoder();

/**
 * The byte span [start, end) of the value stored under the string key `key`
 * in `buf`, a MessagePack map (the last one when the key repeats), or
 * undefined when `buf` is not a map or has no such key.
 */
export function msgpackMapValue(buf: Uint8Array, key: string): [number, number] | undefined {
  const want = ENCODER.encode(key);
  const c = buf[0];
  let pairs: number;
  let pos: number;
  if (c === undefined) return undefined;
  if ((c & 0xf0) === 0x80) {
    pairs = c & 0x0f;
    pos = 1;
  } else if (c === 0xde && buf.length >= 3) {
    pairs = (buf[1]! << 8) | buf[2]!;
    pos = 3;
  } else if (c === 0xdf && buf.length >= 5) {
    pairs = ((buf[1]! << 24) >>> 0) + ((buf[2]! << 16) | (buf[3]! << 8) | buf[4]!);
    pos = 5;
  } else {
    return undefined;
  }
  let found: [number, number] | undefined;
  for (let i = 0; i < pairs; i++) {
    const keyEnd = skipMessagePackValue(buf, pos);
    if (keyEnd < 0) return undefined;
    const matches = stringEquals(buf, pos, keyEnd, want);
    const valueEnd = skipMessagePackValue(buf, keyEnd);
    if (valueEnd < 0) return undefined;
    if (matches) found = [keyEnd, valueEnd];
    pos = valueEnd;
  }
  return found;
}

/** True when buf[start, end) is a MessagePack string whose bytes are `want`. */
function stringEquals(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  const c = buf[start]!;
  const head = (c & 0xe0) === 0xa0 ? 1 : c === 0xd9 ? 2 : c === 0xda ? 3 : c === 0xdb ? 5 : 0;
  if (head === 0 || end - start - head !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + head + i] !== want[i]) return false;
  return true;
}

/**
 * The text span [start, end) of member `key`'s value in `text`, a JSON
 * object that JSON.parse has already accepted (the last one when the key
 * repeats, as JSON.parse does), or undefined.
 */
export function jsonMemberValue(text: string, key: string): [number, number] | undefined {
  let pos = skipSpace(text, 0);
  if (text[pos] !== '{') return undefined;
  pos = skipSpace(text, pos + 1);
  let found: [number, number] | undefined;
  while (pos < text.length && text[pos] !== '}') {
    const keyEnd = skipJson(text, pos);
    const name = JSON.parse(text.slice(pos, keyEnd)) as unknown;
    pos = skipSpace(text, keyEnd);
    pos = skipSpace(text, pos + 1); // ':'
    const valueEnd = skipJson(text, pos);
    if (name === key) found = [pos, valueEnd];
    pos = skipSpace(text, valueEnd);
    if (text[pos] === ',') pos = skipSpace(text, pos + 1);
  }
  return found;
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length) {
    const ch = text.charCodeAt(pos);
    if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0a && ch !== 0x0d) break;
    pos++;
  }
  return pos;
}

/** End of the (valid) JSON value starting at `pos`. */
function skipJson(text: string, pos: number): number {
  const ch = text[pos];
  if (ch === '"') {
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    return pos + 1;
  }
  if (ch === '{' || ch === '[') {
    let depth = 0;
    for (; pos < text.length; pos++) {
      const c = text[pos];
      if (c === '"') pos = skipJson(text, pos) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return pos + 1;
      }
    }
    return pos;
  }
  // Number or literal: up to the next delimiter.
  while (pos < text.length && !',}] \t\n\r'.includes(text[pos]!)) pos++;
  return pos;
}
