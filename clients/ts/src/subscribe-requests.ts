/**
 * Builds `subscribe` requests that each fit in one /stream control frame.
 * The server closes a connection whose frame is over `--max-stream-frame`
 * (16 KiB by default) with 1009, so a long symbol list, or a resume naming
 * `since` for many symbols, is split into several requests.
 */
import type { SubscribeRequest } from '../../../src/protocol/types.js';

/** The server's default `--max-stream-frame`. */
export const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024;

// Upper bounds of the JSON text (MessagePack is never longer for these
// shapes: a string costs 1-2 header bytes against two quotes and a comma).
// Everything but the symbols: {"op":"subscribe","symbols":[],"since":{},
// "throttle":4294967295,"epoch":""} is 75 characters.
const BASE_BYTES = 96;
/** `"SYM",` */
const SYMBOL_EXTRA = 3;
/** `"SYM":9007199254740991,` minus the symbol */
const SINCE_EXTRA = 20;

export interface SubscribeParts {
  readonly throttle: number;
  /** Last n seen per symbol, for a resume (only the listed symbols' entries are sent). */
  readonly since?: ReadonlyMap<string, number>;
  /** The numbering `since` refers to. */
  readonly epoch?: string;
}

/** Upper bound of one request's encoded size. */
export function requestBytes(
  symbols: readonly string[],
  parts: SubscribeParts,
  sinceSymbols: Iterable<string> = symbols,
): number {
  let bytes = BASE_BYTES + (parts.epoch?.length ?? 0);
  for (const s of symbols) bytes += s.length + SYMBOL_EXTRA;
  if (parts.since !== undefined) {
    for (const s of sinceSymbols) if (parts.since.has(s)) bytes += s.length + SINCE_EXTRA;
  }
  return bytes;
}

/** One request for `symbols`, with their `since` entries when given. */
export function subscribeRequest(
  symbols: readonly string[],
  parts: SubscribeParts,
  sinceSymbols: Iterable<string> = symbols,
): SubscribeRequest {
  let since: Record<string, number> | undefined;
  if (parts.since !== undefined) {
    since = {};
    for (const s of sinceSymbols) {
      const n = parts.since.get(s);
      if (n !== undefined) since[s] = n;
    }
  }
  return {
    op: 'subscribe',
    symbols,
    ...(parts.throttle > 0 ? { throttle: parts.throttle } : {}),
    ...(since === undefined ? {} : { since }),
    ...(since === undefined || parts.epoch === undefined ? {} : { epoch: parts.epoch }),
  };
}

/**
 * Splits `symbols` into requests of at most `maxBytes` each (upper bound),
 * in order, each carrying the `since` entries of its own symbols.
 */
export function splitSubscribe(
  symbols: readonly string[],
  parts: SubscribeParts,
  maxBytes: number,
): SubscribeRequest[] {
  const out: SubscribeRequest[] = [];
  const base = BASE_BYTES + (parts.epoch?.length ?? 0);
  let chunk: string[] = [];
  let bytes = base;
  for (const s of symbols) {
    const cost =
      s.length + SYMBOL_EXTRA + (parts.since?.has(s) === true ? s.length + SINCE_EXTRA : 0);
    if (chunk.length > 0 && bytes + cost > maxBytes) {
      out.push(subscribeRequest(chunk, parts));
      chunk = [];
      bytes = base;
    }
    chunk.push(s);
    bytes += cost;
  }
  if (chunk.length > 0) out.push(subscribeRequest(chunk, parts));
  return out;
}
