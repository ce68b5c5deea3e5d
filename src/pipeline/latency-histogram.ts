/**
 * Cumulative bucket counts of pipeline latency, for a Prometheus histogram
 * (metrics.ts exposes them as `tickwire_pipeline_latency_seconds`). Unlike
 * the window's percentiles they are counters over the process's life, so
 * nodes can be summed and `histogram_quantile` taken over any range.
 *
 * Kept in a typed array: recording is a short scan of the bounds and two
 * additions, no allocation (prom-client's Histogram#observe creates a
 * closure per call). A frame's ticks share one latency and are added to
 * their bucket at once (`recordMany`).
 */

/** Upper bounds (µs, inclusive, as Prometheus's `le`): 10 µs … 1 s, then +Inf. */
export const LATENCY_BUCKETS_US: readonly number[] = Object.freeze([
  10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
  1_000_000,
]);

/** A snapshot of the counts, read at scrape time. */
export interface LatencyHistogramSnapshot {
  /** The bounds in µs (the last bucket, +Inf, has none). */
  readonly boundsUs: readonly number[];
  /** Cumulative counts: [i] samples ≤ boundsUs[i]; the last entry is the total. */
  readonly cumulative: readonly number[];
  /** Sum of all samples, µs. */
  readonly sumUs: number;
}

export class LatencyHistogram {
  readonly #bounds: Float64Array;
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. Float64: exact to 2^53. */
  readonly #counts: Float64Array;
  #sumUs = 0;

  constructor(boundsUs: readonly number[] = LATENCY_BUCKETS_US) {
    for (let i = 1; i < boundsUs.length; i++) {
      if (!(boundsUs[i]! > boundsUs[i - 1]!)) throw new RangeError('bounds must increase');
    }
    this.#bounds = Float64Array.from(boundsUs);
    this.#counts = new Float64Array(boundsUs.length + 1);
  }

  /** Adds one sample (µs). */
  record(us: number): void {
    this.recordMany(us, 1);
  }

  /** Adds `n` samples of the same value (µs). */
  recordMany(us: number, n: number): void {
    // Below zero (with --nats the stamp comes from another process's clock) or NaN counts as 0:
    // _sum is a counter, and a step down would read as a reset to Prometheus.
    if (!(us > 0)) us = 0;
    const bounds = this.#bounds;
    const last = bounds.length;
    // Linear from the bottom: most samples fall in the first few buckets.
    let i = 0;
    while (i < last && us > bounds[i]!) i++;
    this.#counts[i]! += n;
    this.#sumUs += us * n;
  }

  /** Cumulative counts and the sum, for a scrape. */
  snapshot(): LatencyHistogramSnapshot {
    const counts = this.#counts;
    const cumulative: number[] = new Array<number>(counts.length);
    let acc = 0;
    for (let i = 0; i < counts.length; i++) {
      acc += counts[i]!;
      cumulative[i] = acc;
    }
    return { boundsUs: Array.from(this.#bounds), cumulative, sumUs: this.#sumUs };
  }
}
