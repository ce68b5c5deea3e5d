/**
 * Counters of what the server refused on purpose (limits, origin, feed rate,
 * feeds that do not read their acks), as plain numbers read by /stats and
 * /metrics at request time.
 */

/** The `refused` object of /stats. */
export interface RefusedStats {
  /** Upgrades answered 503 because maxConnections was reached. */
  readonly connections_global: number;
  /** Upgrades answered 429 because maxConnectionsPerIp was reached. */
  readonly connections_per_ip: number;
  /** Upgrades answered 403 because the Origin header is not allowed. */
  readonly origin: number;
  /** Feed frames refused whole because the feed was over its tick rate. */
  readonly rate_limited_frames: number;
  /** Feeds closed with 1008 rate_limited for staying over their rate. */
  readonly rate_limited_closes: number;
  /** Feeds closed with 1008 slow_consumer: more than maxBackpressure of acks and errors unread. */
  readonly slow_consumer_feed_closes: number;
}

export class RefusalCounts {
  connectionsGlobal = 0;
  connectionsPerIp = 0;
  origin = 0;
  rateLimitedFrames = 0;
  rateLimitedCloses = 0;
  slowConsumerFeedCloses = 0;

  stats(): RefusedStats {
    return {
      connections_global: this.connectionsGlobal,
      connections_per_ip: this.connectionsPerIp,
      origin: this.origin,
      rate_limited_frames: this.rateLimitedFrames,
      rate_limited_closes: this.rateLimitedCloses,
      slow_consumer_feed_closes: this.slowConsumerFeedCloses,
    };
  }
}
