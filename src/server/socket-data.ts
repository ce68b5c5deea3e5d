/** Per-connection state kept in uWS user data. */
import type { TokenBucket } from './rate-limit.js';
import type { FeedAcks } from './feed-acks.js';
import type { FeedRateLimit } from './rate-limit.js';
import type { SentLedger } from './sent-ledger.js';
import type { Throttle } from './throttle.js';

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
  /** Being closed as a slow consumer (feed-replies.ts): nothing more is read or sent. */
  closing?: SlowConsumerClose;
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
  /** Control-message budget (undefined: no limit). */
  readonly budget: TokenBucket | undefined;
  /**
   * Bytes of snapshots and replays sent that may take the queue past
   * maxBackpressure until it is back under it (conflation.ts).
   */
  replyAllowance: number;
  /** Being closed as a slow consumer (conflation.ts): nothing more is sent or read. */
  closing?: SlowConsumerClose;
}

/** A subscriber's conflation and throttle state, created when first needed. */
export interface DeliveryState {
  /** Connection id, as listed in /stats. */
  readonly id: number;
  readonly ip: string;
  readonly ledger: SentLedger;
  readonly throttle: Throttle;
  conflating: boolean;
  /** performance.now() when conflation began. */
  since: number;
  /** Queued bytes at the last look, and when they last went down. */
  lastBuffered: number;
  lastProgressAt: number;
  /** Where the next catch-up pass starts in its list. */
  cursor: number;
}

/** A slow-consumer close in progress. */
export interface SlowConsumerClose {
  /** performance.now() when it began. */
  readonly since: number;
  /** The 1008 close reason. */
  readonly reason: string;
}

/** A /stats/stream connection: receives one JSON stats snapshot per second. */
export interface StatsSocketData {
  readonly kind: 'stats';
  /** Remote address, counted against the connection limits while open. */
  readonly ip: string;
  closed: boolean;
}

export type SocketData = FeedSocketData | StreamSocketData | StatsSocketData;
