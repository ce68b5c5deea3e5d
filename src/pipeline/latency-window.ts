/**
 * The sliding window of pipeline latency samples (µs), on ring-buffer-ts.
 *
 * RingBuffer#add takes rest parameters and iterates them with forEach, which
 * allocates an array and a closure per call; `record` writes one sample into
 * the same storage without either. Percentiles are computed only when read
 * (a sort of at most 65,536 doubles, a few ms), never per tick.
 */
import ringBuffer from 'ring-buffer-ts';

// ring-buffer-ts ships a UMD bundle: Node's ESM loader sees no named exports.
const { RingBuffer } = ringBuffer;

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  readonly samples: number;
}

export const EMPTY_SUMMARY: LatencySummary = Object.freeze({
  p50: 0,
  p95: 0,
  p99: 0,
  p999: 0,
  max: 0,
  mean: 0,
  samples: 0,
});

export class LatencyWindow extends RingBuffer<number> {
  constructor(size = 65_536) {
    super(size);
  }

  /** Records one sample (µs) without allocating. */
  record(us: number): void {
    this.buffer[this.pos] = us;
    this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
  }

  /** Nearest-rank percentiles over the samples in the window. */
  summary(): LatencySummary {
    const n = this.buffer.length;
    if (n === 0) return EMPTY_SUMMARY;
    const sorted = Float64Array.from(this.buffer).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    return {
      p50: round(rank(sorted, 0.5)),
      p95: round(rank(sorted, 0.95)),
      p99: round(rank(sorted, 0.99)),
      p999: round(rank(sorted, 0.999)),
      max: round(sorted[n - 1]!),
      mean: round(sum / n),
      samples: n,
    };
  }
}

/** Nearest-rank percentile of a sorted array: the ceil(q·n)-th smallest value. */
export function rank(sorted: Float64Array, q: number): number {
  const idx = Math.max(0, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.min(idx, sorted.length - 1)]!;
}

function round(us: number): number {
  return Math.round(us * 10) / 10;
}
