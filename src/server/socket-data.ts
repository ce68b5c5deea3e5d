/** Per-connection state kept in uWS user data. */
export interface FeedSocketData {
  readonly kind: 'feed';
  readonly ack: boolean;
  /** Frames received on this connection (acks count from 1). */
  frames: number;
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
  closed: boolean;
}

/** A /stats/stream connection: receives one JSON stats snapshot per second. */
export interface StatsSocketData {
  readonly kind: 'stats';
  closed: boolean;
}

export type SocketData = FeedSocketData | StreamSocketData | StatsSocketData;
