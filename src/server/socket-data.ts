/** Per-connection state kept in uWS user data. */
import type { DeliveryState } from './conflation.js';
import type { FeedAcks } from './feed-acks.js';
import type { FeedRateLimit } from './rate-limit.js';

export interface FeedSocketData {
  readonly kind: 'feed';
  readonly ack: boolean;
  /** Frames received on this connection (acks count from 1). */
  frames: number;
  /** Bus mode with ?ack=1: acks wait for the bus to store the ticks (set on open). */
  acks?: FeedAcks;
  /** Tick rate limit (undefined: feedRate 0, unlimited). */
  readonly rate: FeedRateLimit | undefined;
  /** Remote address, counted against the connection limits while open. */
  readonly ip: string;
  closed: boolean;
}

export interface StreamSocketData {
  readonly kind: 'stream';
  readonly json: boolean;
  /** Symbols subscribed by name. */
  readonly symbols: Set<string>;
  /** Subscribed to "*": listens on the wildcard topic only. */
  all: boolean;
  /** Symbols from `?symbols=` to subscribe on open (or an error message). */
  readonly initial: readonly string[] | string | undefined;
  /** Remote address, counted against the connection limits while open. */
  readonly ip: string;
  closed: boolean;
  /** Conflation and throttle state, from the first time it is needed (conflation.ts). */
  delivery?: DeliveryState;
}

/** A /stats/stream connection: receives one JSON stats snapshot per second. */
export interface StatsSocketData {
  readonly kind: 'stats';
  /** Remote address, counted against the connection limits while open. */
  readonly ip: string;
  closed: boolean;
}

export type SocketData = FeedSocketData | StreamSocketData | StatsSocketData;
