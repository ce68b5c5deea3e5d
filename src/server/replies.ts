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

const POP_PONG = new Uint8Array([
  0x83, 0xa2, 0x6f, 0x70, 0xa4, 0x70, 0x6f, 0x6e, 0x67, 0xa2, 0x69, 0x64,
]);
const NIL = new Uint8Array([0xc0]);
const TIME_KEY = new Uint8Array([0xa4, 0x74, 0x69, 0x6d, 0x65, 0xcf]);

/**
 * A MessagePack pong whose id is `id`, the bytes of the id value exactly as
 * the client sent them (see protocol/echo.ts), or nil when it sent none.
 */
export function msgpackPong(id: Uint8Array | undefined, timeUs: number): Uint8Array {
  const idBytes = id ?? NIL;
  const out = new Uint8Array(POP_PONG.length + idBytes.length + TIME_KEY.length + 8);
  out.set(POP_PONG, 0);
  out.set(idBytes, POP_PONG.length);
  let w = POP_PONG.length + idBytes.length;
  out.set(TIME_KEY, w);
  w += TIME_KEY.length;
  new DataView(out.buffer).setBigUint64(w, BigInt(timeUs));
  return out;
}

/** A JSON pong whose id is `id`, the id's JSON text exactly as the client sent it. */
export function jsonPong(id: string | undefined, timeUs: number): string {
  return `{"op":"pong","id":${id ?? 'null'},"time":${timeUs}}`;
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
