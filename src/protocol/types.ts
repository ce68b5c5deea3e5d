/**
 * Wire types of the tickwire protocol (v1). Shared with clients: no `node:`
 * imports. Shapes follow docs/protocol.md exactly.
 */
import type { ErrorCode } from './codes.js';

/** A scalar forwarded untouched in a tick. */
export type TickScalar = null | boolean | number | string;

/** A price tick as a feed sends it. */
export interface Tick {
  /** Symbol: 1–32 bytes of [A-Za-z0-9._:/-]. */
  readonly s: string;
  /** Price. */
  readonly p: number;
  /** Size (≥ 0). */
  readonly q?: number;
  /** Best bid. */
  readonly b?: number;
  /** Best ask. */
  readonly a?: number;
  /** Source timestamp, µs since the Unix epoch. */
  readonly t?: number;
  readonly [extra: string]: TickScalar | undefined;
}

/** A tick as delivered to subscribers: the feed's tick plus `n` and `r`. */
export interface Update extends Tick {
  /** Per-symbol sequence number: 1, 2, 3, … */
  readonly n: number;
  /** Server receive time, µs since the Unix epoch. */
  readonly r: number;
}

export interface ErrorMessage {
  readonly op: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly indices?: readonly number[];
  /** On /feed: the frame the error is about (counted from 1, as in acks). */
  readonly frame?: number;
}

export interface AckMessage {
  readonly op: 'ack';
  readonly frame: number;
  readonly accepted: number;
  readonly rejected: number;
}

export interface SubscribeRequest {
  readonly op: 'subscribe';
  readonly symbols: readonly string[];
  readonly throttle?: number;
  readonly since?: Readonly<Record<string, number>>;
  /**
   * The numbering `since` refers to (the `epoch` of an earlier `subscribed`
   * or `snapshot`). A `since` is honoured only when this equals the
   * server's current epoch; otherwise the answer is `recovered: false`.
   */
  readonly epoch?: string;
}

export interface UnsubscribeRequest {
  readonly op: 'unsubscribe';
  readonly symbols: readonly string[];
}

export interface PingRequest {
  readonly op: 'ping';
  readonly id?: unknown;
}

export type ControlRequest = SubscribeRequest | UnsubscribeRequest | PingRequest;

export interface SubscribedMessage {
  readonly op: 'subscribed';
  readonly symbols: readonly string[];
  readonly recovered?: boolean;
  /** The identity of the numbering `n` belongs to (always sent by this server). */
  readonly epoch?: string;
}

export interface UnsubscribedMessage {
  readonly op: 'unsubscribed';
  readonly symbols: readonly string[];
}

export interface SnapshotMessage {
  readonly op: 'snapshot';
  /** The identity of the numbering `n` belongs to (always sent by this server). */
  readonly epoch?: string;
  readonly ticks: readonly Update[];
}

export interface PongMessage {
  readonly op: 'pong';
  readonly id: unknown;
  readonly time: number;
}

/** Everything the server sends on /stream besides updates. */
export type StreamControlMessage =
  SubscribedMessage | UnsubscribedMessage | SnapshotMessage | PongMessage | ErrorMessage;

/** Everything the server sends on /feed. */
export type FeedControlMessage = AckMessage | ErrorMessage;
