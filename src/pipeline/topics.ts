/**
 * Topic names used for fan-out. Each symbol has one topic per wire format, so
 * that a frame is encoded once per format and published to many; the
 * wildcard has its own pair. A socket subscribed to "*" listens on the
 * wildcard topic only, which is how it gets each update once.
 */
import { ALL_SYMBOLS } from '../protocol/codes.js';

export type Format = 'msgpack' | 'json';

export function topicFor(symbol: string, format: Format): string {
  return (format === 'json' ? 'j:' : 'm:') + symbol;
}

export const ALL_MSGPACK_TOPIC = topicFor(ALL_SYMBOLS, 'msgpack');
export const ALL_JSON_TOPIC = topicFor(ALL_SYMBOLS, 'json');
