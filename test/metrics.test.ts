import { describe, expect, it } from 'vitest';
import { type MetricsSource, createMetrics } from '../src/metrics.js';
import type { LatencySummary } from '../src/pipeline/latency-window.js';
import { PipelineCounters } from '../src/pipeline/pipeline.js';

function fakeSource() {
  const counters = new PipelineCounters();
  counters.ticksReceived = 120;
  counters.ticksPublished = 100;
  counters.ticksRejected = 20;
  counters.framesReceived = 30;
  counters.framesBad = 2;
  const state = {
    feeds: 2,
    subscribers: 118,
    slowConsumersClosed: 1,
    symbols: 40,
    latency: {
      p50: 18,
      p95: 41,
      p99: 77,
      p999: 190,
      max: 2310,
      mean: 22.4,
      samples: 65536,
    } as LatencySummary,
  };
  const source: MetricsSource = {
    counters,
    connections: () => ({
      feeds: state.feeds,
      subscribers: state.subscribers,
      slowConsumersClosed: state.slowConsumersClosed,
    }),
    symbols: () => state.symbols,
    latency: () => state.latency,
  };
  return { counters, state, source };
}

/** The value of the sample line `name` (with labels, if any) in exposition text. */
function sample(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (sp > 0 && line.slice(0, sp) === name) return Number(line.slice(sp + 1));
  }
  return undefined;
}

describe('createMetrics', () => {
  it('exposes the source values on the first scrape', async () => {
    const { source } = fakeSource();
    const text = await createMetrics(source).metrics();
    expect(sample(text, 'tickwire_ticks_received_total')).toBe(120);
    expect(sample(text, 'tickwire_ticks_published_total')).toBe(100);
    expect(sample(text, 'tickwire_ticks_rejected_total')).toBe(20);
    expect(sample(text, 'tickwire_frames_received_total')).toBe(30);
    expect(sample(text, 'tickwire_frames_bad_total')).toBe(2);
    expect(sample(text, 'tickwire_slow_consumers_closed_total')).toBe(1);
    expect(sample(text, 'tickwire_connections{role="feed"}')).toBe(2);
    expect(sample(text, 'tickwire_connections{role="subscriber"}')).toBe(118);
    expect(sample(text, 'tickwire_symbols')).toBe(40);
    expect(sample(text, 'tickwire_pipeline_latency_us{quantile="0.5"}')).toBe(18);
    expect(sample(text, 'tickwire_pipeline_latency_us{quantile="0.95"}')).toBe(41);
    expect(sample(text, 'tickwire_pipeline_latency_us{quantile="0.99"}')).toBe(77);
    expect(sample(text, 'tickwire_pipeline_latency_us{quantile="0.999"}')).toBe(190);
    expect(sample(text, 'tickwire_pipeline_latency_samples')).toBe(65536);
  });

  it('types the mirrored totals as counters and the rest as gauges', async () => {
    const { source } = fakeSource();
    const text = await createMetrics(source).metrics();
    expect(text).toContain('# TYPE tickwire_ticks_received_total counter');
    expect(text).toContain('# TYPE tickwire_connections gauge');
    expect(text).toContain('# TYPE tickwire_pipeline_latency_us gauge');
  });

  it('follows the source on later scrapes', async () => {
    const { counters, state, source } = fakeSource();
    const registry = createMetrics(source);
    await registry.metrics();
    counters.ticksReceived += 55;
    counters.ticksPublished += 50;
    counters.ticksRejected += 5;
    counters.framesReceived += 3;
    counters.framesBad += 1;
    state.slowConsumersClosed = 4;
    state.feeds = 0;
    state.subscribers = 7;
    state.symbols = 41;
    state.latency = { ...state.latency, p99: 12, samples: 9 };
    const text = await registry.metrics();
    expect(sample(text, 'tickwire_ticks_received_total')).toBe(175);
    expect(sample(text, 'tickwire_ticks_published_total')).toBe(150);
    expect(sample(text, 'tickwire_ticks_rejected_total')).toBe(25);
    expect(sample(text, 'tickwire_frames_received_total')).toBe(33);
    expect(sample(text, 'tickwire_frames_bad_total')).toBe(3);
    expect(sample(text, 'tickwire_slow_consumers_closed_total')).toBe(4);
    expect(sample(text, 'tickwire_connections{role="feed"}')).toBe(0);
    expect(sample(text, 'tickwire_connections{role="subscriber"}')).toBe(7);
    expect(sample(text, 'tickwire_symbols')).toBe(41);
    expect(sample(text, 'tickwire_pipeline_latency_us{quantile="0.99"}')).toBe(12);
    expect(sample(text, 'tickwire_pipeline_latency_samples')).toBe(9);
  });

  it('keeps counters steady across scrapes when nothing changed', async () => {
    const { source } = fakeSource();
    const registry = createMetrics(source);
    await registry.metrics();
    await registry.metrics();
    const text = await registry.metrics();
    expect(sample(text, 'tickwire_ticks_received_total')).toBe(120);
  });

  it('names every metric tickwire_*', async () => {
    const { source } = fakeSource();
    const registry = createMetrics(source);
    const json = await registry.getMetricsAsJSON();
    expect(json.length).toBeGreaterThan(10);
    for (const m of json) expect(m.name).toMatch(/^tickwire_/);
    const text = await registry.metrics();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const name = line.startsWith('#') ? line.split(' ')[2]! : line;
      expect(name).toMatch(/^tickwire_/);
    }
    // Process metrics are exported under the same prefix.
    expect(text).toContain('tickwire_process_cpu_user_seconds_total');
  });

  it('gives each call its own registry', async () => {
    const a = fakeSource();
    const b = fakeSource();
    b.counters.ticksReceived = 1;
    const ra = createMetrics(a.source);
    const rb = createMetrics(b.source);
    expect(ra).not.toBe(rb);
    expect(sample(await ra.metrics(), 'tickwire_ticks_received_total')).toBe(120);
    expect(sample(await rb.metrics(), 'tickwire_ticks_received_total')).toBe(1);
  });
});
