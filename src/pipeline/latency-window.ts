/**
 * The sliding window of pipeline latency samples (µs), on ring-buffer-ts,
 * and the histogram of every sample since start (latency-histogram.ts).
 *
 * RingBuffer#add takes rest parameters and iterates them with forEach, which
 * allocates an array and a closure per call; `record` writes one sample into
 * the same storage without either. Percentiles are computed only when read
 * (a sort of at most 65,536 doubles, a few ms), never per tick.
 */
import ringBuffer from 'ring-buffer-ts';
import { LatencyHistogram } from './latency-histogram.js';

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
  /** Every sample since start, in buckets (for the Prometheus histogram). */
  readonly histogram = new LatencyHistogram();

  constructor(size = 65_536) {
    super(size);
  }

  /** Records one sample (µs) without allocating. */
  record(us: number): void {
    this.buffer[this.pos] = us;
    this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
    this.histogram.recordMany(us, 1);
  }

  /**
   * Records the `n` ticks of a frame that entered at `entryMs`
   * (performance.now()), now handed to the sockets: they share one latency.
   * Takes the entry time, not the latency: the pipeline's frame handler is
   * too large for V8 to inline this call into, and a double computed there
   * and passed on would be boxed, 16 bytes per frame (measured with
   * bench:pipeline); `entryMs` arrives boxed already.
   */
  recordFrame(entryMs: number, n: number): void {
    this.recordMany((performance.now() - entryMs) * 1000, n);
  }

  /** Records `n` samples of the same value (µs). */
  recordMany(us: number, n: number): void {
    const size = this.size;
    const buffer = this.buffer;
    let pos = this.pos;
    // At most `size` writes: more would overwrite the same slots again.
    for (let i = Math.min(n, size); i > 0; i--) {
      buffer[pos] = us;
      pos = pos + 1 === size ? 0 : pos + 1;
    }
    this.pos = pos;
    this.histogram.recordMany(us, n);
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
