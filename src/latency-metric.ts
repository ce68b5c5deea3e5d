/**
 * `tickwire_pipeline_latency_seconds`: the pipeline's latency histogram
 * (pipeline/latency-histogram.ts) as a Prometheus histogram, in seconds,
 * with `_bucket{le}`, `_sum` and `_count` series.
 *
 * prom-client's Histogram can only be fed with `observe`, one call (and one
 * closure) per sample; the counts already exist, so this metric hands them
 * to the registry as they are, at scrape time. It implements the part of
 * prom-client's metric contract the registry uses (name, help, type,
 * aggregator, get, reset); `aggregator: 'sum'` lets a cluster's registries
 * be summed.
 */
import type { Metric, Registry } from 'prom-client';
import type { LatencyHistogramSnapshot } from './pipeline/latency-histogram.js';

export const LATENCY_HISTOGRAM_NAME = 'tickwire_pipeline_latency_seconds';

const HELP =
  'Pipeline latency (frame entry to hand-off to sockets; with --nats, receiving node to delivery) of every update since start, seconds.';

interface HistogramValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName: string;
}

/** The exposition values of a snapshot: cumulative buckets in seconds, then sum and count. */
export function histogramValues(
  name: string,
  snap: LatencyHistogramSnapshot,
): readonly HistogramValue[] {
  const values: HistogramValue[] = [];
  const total = snap.cumulative[snap.cumulative.length - 1] ?? 0;
  snap.boundsUs.forEach((us, i) => {
    values.push({
      value: snap.cumulative[i] ?? 0,
      labels: { le: us / 1e6 },
      metricName: `${name}_bucket`,
    });
  });
  values.push({ value: total, labels: { le: '+Inf' }, metricName: `${name}_bucket` });
  values.push({ value: snap.sumUs / 1e6, labels: {}, metricName: `${name}_sum` });
  values.push({ value: total, labels: {}, metricName: `${name}_count` });
  return values;
}

/** Registers the histogram, read from `read` at each scrape. */
export function registerLatencyHistogram(
  registry: Registry,
  read: () => LatencyHistogramSnapshot,
): void {
  const metric = {
    name: LATENCY_HISTOGRAM_NAME,
    help: HELP,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      return Promise.resolve({
        name: LATENCY_HISTOGRAM_NAME,
        help: HELP,
        type: 'histogram',
        aggregator: 'sum',
        values: histogramValues(LATENCY_HISTOGRAM_NAME, read()),
      });
    },
    // Counters since start: nothing to reset.
    reset(): void {},
  };
  // The registry's Metric type lists prom-client's four classes only; it
  // reads no more than the fields above (see the module comment).
  registry.registerMetric(metric as unknown as Metric);
}
