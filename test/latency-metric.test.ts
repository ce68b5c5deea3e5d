/**
 * tickwire_pipeline_latency_seconds in the Prometheus text exposition:
 * HELP and TYPE histogram, cumulative `_bucket` series with `le` in seconds
 * and a final `+Inf` equal to `_count`, `_sum` in seconds; and two nodes'
 * histograms sum bucket by bucket (prom-client's AggregatorRegistry).
 */
import { AggregatorRegistry, Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { LATENCY_HISTOGRAM_NAME, registerLatencyHistogram } from '../src/latency-metric.js';
import { LatencyHistogram } from '../src/pipeline/latency-histogram.js';

function registryWith(h: LatencyHistogram): Registry {
  const registry = new Registry();
  registerLatencyHistogram(registry, () => h.snapshot());
  return registry;
}

/** `name{labels} value` lines of the exposition, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

describe(LATENCY_HISTOGRAM_NAME, () => {
  test('exposition: type histogram, buckets in seconds, cumulative, +Inf = count, sum in seconds', async () => {
    const h = new LatencyHistogram();
    h.recordMany(20, 3); // ≤ 25 µs
    h.record(700); // ≤ 1 ms
    h.record(2_000_000); // +Inf
    const text = await registryWith(h).metrics();
    expect(text).toContain(`# TYPE ${LATENCY_HISTOGRAM_NAME} histogram`);
    expect(text).toContain(`# HELP ${LATENCY_HISTOGRAM_NAME} `);
    const s = samples(text);
    const b = (le: string): number | undefined =>
      s.get(`${LATENCY_HISTOGRAM_NAME}_bucket{le="${le}"}`);
    expect(b('0.00001')).toBe(0);
    expect(b('0.000025')).toBe(3);
    expect(b('0.0005')).toBe(3);
    expect(b('0.001')).toBe(4);
    expect(b('1')).toBe(4);
    expect(b('+Inf')).toBe(5);
    expect(s.get(`${LATENCY_HISTOGRAM_NAME}_count`)).toBe(5);
    expect(s.get(`${LATENCY_HISTOGRAM_NAME}_sum`)).toBeCloseTo((60 + 700 + 2_000_000) / 1e6, 9);
    // 16 bounds + Inf, then sum and count.
    const names = [...s.keys()].filter((k) => k.startsWith(LATENCY_HISTOGRAM_NAME));
    expect(names).toHaveLength(19);
  });

  test('read at each scrape: later samples show in the next one', async () => {
    const h = new LatencyHistogram();
    const registry = registryWith(h);
    expect(samples(await registry.metrics()).get(`${LATENCY_HISTOGRAM_NAME}_count`)).toBe(0);
    h.recordMany(100, 12);
    expect(samples(await registry.metrics()).get(`${LATENCY_HISTOGRAM_NAME}_count`)).toBe(12);
  });

  test('two nodes aggregate by summing each bucket', async () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.recordMany(20, 2);
    b.recordMany(20, 5);
    b.record(3000);
    const merged = AggregatorRegistry.aggregate([
      await registryWith(a).getMetricsAsJSON(),
      await registryWith(b).getMetricsAsJSON(),
    ]);
    const s = samples(await merged.metrics());
    expect(s.get(`${LATENCY_HISTOGRAM_NAME}_bucket{le="0.000025"}`)).toBe(7);
    expect(s.get(`${LATENCY_HISTOGRAM_NAME}_bucket{le="+Inf"}`)).toBe(8);
    expect(s.get(`${LATENCY_HISTOGRAM_NAME}_count`)).toBe(8);
  });
});
