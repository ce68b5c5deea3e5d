/**
 * The nesting bound of control messages, for JSON text: the same MAX_DEPTH
 * that isSafeMessagePack (tick-scanner.ts) applies to MessagePack, checked
 * on the raw UTF-8 bytes before JSON.parse sees them.
 *
 * Why: whatever decodes or re-encodes a client's value (JSON.stringify,
 * msgpackr's pack, a client's own JSON decoder when an id is echoed) recurses
 * once per level, so a 3 KB frame of 1,500 nested arrays overflows the
 * stack. Bounding the depth at the door makes every later step safe.
 *
 * One pass, no allocation, no recursion. Strings are skipped with their
 * escapes, so brackets inside them do not count. UTF-8 needs no decoding
 * here: the bytes of `"`, `\`, brackets and braces never occur inside a
 * multi-byte sequence (those bytes are all >= 0x80). Malformed text is not
 * this function's concern (JSON.parse refuses it next); it only promises
 * that text it accepts nests at most `maxDepth` levels.
 *
 * No `node:` imports: the protocol layer is shared with clients.
 */
import { MAX_DEPTH } from './tick-scanner.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the JSON text in `utf8` nests at most `maxDepth` levels of arrays
 * and objects (the top-level object is level 1, as for MessagePack).
 */
export function jsonNestsWithin(utf8: Uint8Array, maxDepth: number = MAX_DEPTH): boolean {
  const end = utf8.length;
  let depth = 0;
  for (let i = 0; i < end; i++) {
    const c = utf8[i]!;
    if (c === QUOTE) {
      // Skip the string: up to the next quote that is not escaped (an
      // unterminated string runs to the end, and JSON.parse refuses it).
      for (i++; i < end; i++) {
        const d = utf8[i]!;
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return false;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return true;
}
