/**
 * Encodes control replies (errors, acks, subscribed, pong, …) in a
 * connection's format. Replies are rare next to updates, so msgpackr and
 * JSON.stringify are fine here.
 */
import { Packr } from 'msgpackr';
import type { ErrorCode } from '../protocol/codes.js';
import type { ErrorMessage, FeedControlMessage, StreamControlMessage } from '../protocol/types.js';

const PACKER = new Packr({ useRecords: false });

export type Reply = FeedControlMessage | StreamControlMessage;

/** A reply as a frame: bytes for MessagePack connections, text for JSON. */
export function encodeReply(reply: Reply, json: boolean): Uint8Array | string {
  if (json) return JSON.stringify(reply);
  if (reply.op === 'pong') {
    // Integer µs timestamps above 2^32 would be written as float64 by msgpackr;
    // a BigInt is written as a 64-bit integer.
    return PACKER.pack({ op: 'pong', id: reply.id, time: BigInt(reply.time) });
  }
  return PACKER.pack(reply);
}

export function errorReply(
  code: ErrorCode,
  message: string,
  indices?: readonly number[],
): ErrorMessage {
  return indices === undefined
    ? { op: 'error', code, message }
    : { op: 'error', code, indices, message };
}
