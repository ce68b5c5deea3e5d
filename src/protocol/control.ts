/**
 * Validation of /stream control messages after decoding (JSON or
 * MessagePack). Returns a typed request or a message for `bad_request`.
 * No `node:` imports: shared with clients.
 */
import { ALL_SYMBOLS, MAX_SYMBOL_BYTES, MIN_SYMBOL_BYTES } from './codes.js';
import type { ControlRequest } from './types.js';

const SYMBOL_RE = /^[A-Za-z0-9._:/-]+$/;

/** Longest `epoch` a subscribe may name (the server's own are 16-19 characters). */
export const MAX_EPOCH_LENGTH = 64;

/** Whether `s` is a valid symbol (ASCII only, so length = bytes). */
export function isValidSymbol(s: string): boolean {
  return s.length >= MIN_SYMBOL_BYTES && s.length <= MAX_SYMBOL_BYTES && SYMBOL_RE.test(s);
}

export type ControlParseResult =
  | { readonly ok: true; readonly request: ControlRequest }
  | { readonly ok: false; readonly message: string };

function fail(message: string): ControlParseResult {
  return { ok: false, message };
}

/** Longest part of a client's string quoted back in an error message. */
const QUOTED_MAX = 40;

/**
 * A client's value as an error message names it: a string quoted and cut
 * at QUOTED_MAX characters, anything else by its type only. Never the whole
 * value: it may be megabytes, or nested deep enough to overflow a recursive
 * encoder (JSON.stringify), and it is sent back to the client.
 */
function quoted(v: unknown): string {
  if (typeof v !== 'string') {
    return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a value of type ${typeof v}`;
  }
  return v.length <= QUOTED_MAX
    ? JSON.stringify(v)
    : `${JSON.stringify(v.slice(0, QUOTED_MAX))}… (${v.length} characters)`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Checks a symbols list: a non-empty array of valid symbols or "*".
 * Returns the list de-duplicated in request order, or a message.
 */
export function parseSymbolList(v: unknown): readonly string[] | string {
  if (!Array.isArray(v) || v.length === 0) return 'symbols must be a non-empty array of strings';
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of v as unknown[]) {
    if (typeof s !== 'string' || (s !== ALL_SYMBOLS && !isValidSymbol(s))) {
      return `invalid symbol ${quoted(s)}: use 1-${MAX_SYMBOL_BYTES} characters of [A-Za-z0-9._:/-] or "*"`;
    }
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

export function parseControl(value: unknown): ControlParseResult {
  if (!isRecord(value)) return fail('a control message must be a map/object with an "op" key');
  const op = value.op;
  switch (op) {
    case 'subscribe': {
      const symbols = parseSymbolList(value.symbols);
      if (typeof symbols === 'string') return fail(symbols);
      const throttle = value.throttle;
      if (throttle !== undefined && throttle !== null) {
        if (typeof throttle !== 'number' || !Number.isInteger(throttle) || throttle < 0) {
          return fail('throttle must be an integer number of milliseconds >= 0');
        }
      }
      const since = value.since;
      // A prototype-free copy: symbols such as "toString" or "constructor"
      // are valid, and a lookup must never find Object.prototype's members.
      let sinceMap: Record<string, number> | undefined;
      if (since !== undefined && since !== null) {
        if (!isRecord(since)) return fail('since must be a map of symbol to sequence number');
        sinceMap = Object.create(null) as Record<string, number>;
        for (const [k, n] of Object.entries(since)) {
          if (!isValidSymbol(k)) return fail(`since: invalid symbol ${quoted(k)}`);
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
            return fail(`since: ${k} must map to an integer >= 0`);
          }
          sinceMap[k] = n;
        }
      }
      const epoch = value.epoch;
      if (epoch !== undefined && epoch !== null) {
        if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) {
          return fail(`epoch must be a string of 1-${MAX_EPOCH_LENGTH} characters`);
        }
      }
      const request: ControlRequest = {
        op: 'subscribe',
        symbols,
        ...(typeof throttle === 'number' ? { throttle } : {}),
        ...(sinceMap !== undefined ? { since: sinceMap } : {}),
        ...(typeof epoch === 'string' ? { epoch } : {}),
      };
      return { ok: true, request };
    }
    case 'unsubscribe': {
      const symbols = parseSymbolList(value.symbols);
      if (typeof symbols === 'string') return fail(symbols);
      return { ok: true, request: { op: 'unsubscribe', symbols } };
    }
    case 'ping':
      return { ok: true, request: { op: 'ping', id: value.id ?? null } };
    default:
      return fail(
        typeof op === 'string'
          ? `unknown op ${quoted(op)}: expected subscribe, unsubscribe or ping`
          : 'a control message needs a string "op"',
      );
  }
}
