/**
 * Per-feed tick rate limit: a token bucket of `ticksPerSecond` tokens that
 * refills continuously, holding at most one second's worth (the burst). A
 * frame takes as many tokens as it holds ticks, all or nothing; a refused
 * frame takes none. A batch larger than the whole bucket passes only when
 * the bucket is full, leaving it in debt, so the long-run rate still holds.
 *
 * A feed refused again and again, with no pause of QUIET_MS between two
 * refusals, for PERSIST_MS, is told to close.
 *
 * Everything is arithmetic on fields of this per-connection object: nothing
 * is allocated per frame. What a frame is charged is feed-count.ts's.
 */

/** What `take()` decides for one frame. */
export const RateVerdict = {
  /** Within the rate: process the frame. */
  Ok: 0,
  /** Over the rate: refuse the frame, keep the connection. */
  Refused: 1,
  /** Over the rate for PERSIST_MS: refuse the frame and close the connection. */
  Close: 2,
} as const;
export type RateVerdict = (typeof RateVerdict)[keyof typeof RateVerdict];

/** Refusals this close together belong to one streak. */
export const QUIET_MS = 1000;
/** A streak of refusals this long closes the feed. */
export const PERSIST_MS = 5000;

/**
 * A token bucket: `perSecond` tokens a second, holding at most `capacity`,
 * full at the start. `take` is all or nothing; a cost larger than the whole
 * bucket passes only on a full bucket, leaving it in debt, so the long-run
 * rate still holds. Refusals with no pause of QUIET_MS between them form a
 * streak; one that lasts PERSIST_MS answers Close. Shared by the feed rate
 * limit and the /stream control budget (control-budget.ts).
 */
export class TokenBucket {
  /** Tokens added per millisecond. */
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #last: number;
  #streakStart = 0;
  #lastRefused = Number.NEGATIVE_INFINITY;

  /** `perSecond`, `capacity` > 0; `nowMs` from performance.now(). Starts full. */
  constructor(perSecond: number, capacity: number, nowMs: number) {
    this.#perMs = perSecond / 1000;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#last = nowMs;
  }

  /** Tokens available now (after refill), for tests and diagnostics. */
  available(nowMs: number): number {
    return Math.min(this.#capacity, this.#tokens + (nowMs - this.#last) * this.#perMs);
  }

  /** Takes `cost` tokens at `nowMs` (performance.now()), all or nothing. */
  take(cost: number, nowMs: number): RateVerdict {
    let tokens = this.#tokens + (nowMs - this.#last) * this.#perMs;
    if (tokens > this.#capacity) tokens = this.#capacity;
    this.#last = nowMs;
    if (cost <= tokens || tokens >= this.#capacity) {
      this.#tokens = tokens - cost;
      return RateVerdict.Ok;
    }
    this.#tokens = tokens;
    return this.refuse(nowMs);
  }

  /**
   * Gives back `cost` tokens taken for something that turned out not to
   * count (a feed frame found bad after it was charged), never past a full
   * bucket.
   */
  refund(cost: number): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + cost);
  }

  /**
   * Records a refusal (made by `take`, or decided elsewhere): it counts
   * towards the streak that closes the connection.
   */
  refuse(nowMs: number): RateVerdict {
    if (nowMs - this.#lastRefused > QUIET_MS) this.#streakStart = nowMs;
    this.#lastRefused = nowMs;
    return nowMs - this.#streakStart >= PERSIST_MS ? RateVerdict.Close : RateVerdict.Refused;
  }
}

/** A feed's tick rate limit: one second's worth of ticks is the burst; a frame costs its ticks. */
export class FeedRateLimit extends TokenBucket {
  /** `ticksPerSecond` > 0; `nowMs` from performance.now(). Starts full. */
  constructor(ticksPerSecond: number, nowMs: number) {
    super(ticksPerSecond, ticksPerSecond, nowMs);
  }
}
