/**
 * Prometheus metrics. Every value is read from the server's plain counters
 * at scrape time (`collect()`), so nothing is done per tick for metrics.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { BusStats } from './bus/nats-bus.js';
import { registerLatencyHistogram } from './latency-metric.js';
import type { LatencyHistogramSnapshot } from './pipeline/latency-histogram.js';
import type { LatencySummary } from './pipeline/latency-window.js';
import type { PipelineCounters } from './pipeline/pipeline.js';

export interface MetricsSource {
  readonly counters: PipelineCounters;
  connections(): {
    readonly feeds: number;
    readonly subscribers: number;
    readonly slowConsumersClosed: number;
    /** Times a subscriber entered conflated delivery (absent: 0). */
    readonly slowConsumersConflated?: number;
    /** Subscribers conflated now (absent: 0). */
    readonly conflatingNow?: number;
    /** Updates skipped by conflation or throttle (absent: 0). */
    readonly updatesDropped?: number;
  };
  symbols(): number;
  latency(): LatencySummary;
  /** Updates handed to subscribers, one per update per subscriber (/stats/stream `deliveries`); optional. */
  deliveries?(): number;
  /** What /readyz answers (true: 200); optional. */
  ready?(): boolean;
  /** Every latency sample since start, in buckets (tickwire_pipeline_latency_seconds); optional. */
  latencyHistogram?(): LatencyHistogramSnapshot;
  /** What the server refused on purpose (limits, origin, feed rate); optional. */
  refused?(): RefusedSource;
  /** The NATS bus's state and counters; absent on the embedded bus. */
  bus?(): BusStats;
  /** Exceptions caught at uWS handler entries (see server/guard.ts); optional. */
  handlerErrors?(): readonly HandlerErrorSource[];
  /** The history's byte budget (pipeline/history-budget.ts); optional. */
  history?(): HistorySource;
  /** The journal (--journal) once open; undefined before start. Absent without a journal. */
  journal?(): JournalSource | undefined;
}

/** The journal's watermarks (src/journal/journal-writer.ts). */
export interface JournalSource {
  readonly lastIndex: number;
  readonly writtenIndex: number;
  readonly durableIndex: number;
  readonly bufferedBytes: number;
  readonly failed: boolean;
}

/** What the recovery history holds against its budget (--history-bytes). */
export interface HistorySource {
  readonly bytes: number;
  readonly limit: number;
  readonly evicted: number;
}

/** Exceptions caught at one handler of one route. */
export interface HandlerErrorSource {
  readonly route: string;
  readonly handler: string;
  readonly count: number;
}

/** Refusal counters (see server/refusals.ts). */
export interface RefusedSource {
  readonly connectionsGlobal: number;
  readonly connectionsPerIp: number;
  readonly origin: number;
  readonly rateLimitedFrames: number;
  readonly rateLimitedCloses: number;
  /** Feeds closed with 1008 slow_consumer (absent: 0). */
  readonly slowConsumerFeedCloses?: number;
}

/** A counter whose value is mirrored from a number at scrape time. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > last) this.inc(now - last);
      last = now;
    },
  });
}

export function createMetrics(source: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tickwire_' });
  const c = source.counters;
  mirroredCounter(
    registry,
    'tickwire_ticks_received_total',
    'Ticks that arrived on feeds (valid or not).',
    () => c.ticksReceived,
  );
  mirroredCounter(
    registry,
    'tickwire_ticks_published_total',
    'Valid ticks fanned out.',
    () => c.ticksPublished,
  );
  mirroredCounter(
    registry,
    'tickwire_ticks_rejected_total',
    'Invalid ticks dropped.',
    () => c.ticksRejected,
  );
  mirroredCounter(
    registry,
    'tickwire_frames_received_total',
    'Frames received on feeds.',
    () => c.framesReceived,
  );
  mirroredCounter(
    registry,
    'tickwire_frames_bad_total',
    'Feed frames rejected whole (bad_frame, payload_too_large).',
    () => c.framesBad,
  );
  mirroredCounter(
    registry,
    'tickwire_slow_consumers_closed_total',
    'Subscribers closed with 1008 slow_consumer (past the backpressure limit, or stalled while conflated).',
    () => source.connections().slowConsumersClosed,
  );
  mirroredCounter(
    registry,
    'tickwire_slow_consumers_conflated_total',
    'Times a subscriber passed the high-water mark and switched to conflated delivery.',
    () => source.connections().slowConsumersConflated ?? 0,
  );
  mirroredCounter(
    registry,
    'tickwire_updates_dropped_total',
    'Updates skipped by conflation or throttle (the sum of the n-gaps subscribers were sent).',
    () => source.connections().updatesDropped ?? 0,
  );
  new Gauge({
    name: 'tickwire_slow_consumers_conflating',
    help: 'Subscribers in conflated delivery now.',
    registers: [registry],
    collect() {
      this.set(source.connections().conflatingNow ?? 0);
    },
  });
  new Gauge({
    name: 'tickwire_connections',
    help: 'Open WebSocket connections by role.',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const conns = source.connections();
      this.set({ role: 'feed' }, conns.feeds);
      this.set({ role: 'subscriber' }, conns.subscribers);
    },
  });
  new Gauge({
    name: 'tickwire_symbols',
    help: 'Distinct symbols seen.',
    registers: [registry],
    collect() {
      this.set(source.symbols());
    },
  });
  // Percentiles are computed once per scrape (a sort of the window) by the
  // quantile gauge, which is registered, and so collected, before the
  // samples gauge that reuses its result.
  let summary: LatencySummary | undefined;
  new Gauge({
    name: 'tickwire_pipeline_latency_us',
    help: 'Pipeline latency (frame entry to hand-off to sockets) over the recent-sample window, µs.',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      const s = source.latency();
      summary = s;
      this.set({ quantile: '0.5' }, s.p50);
      this.set({ quantile: '0.95' }, s.p95);
      this.set({ quantile: '0.99' }, s.p99);
      this.set({ quantile: '0.999' }, s.p999);
      this.set({ quantile: '1' }, s.max);
    },
  });
  new Gauge({
    name: 'tickwire_pipeline_latency_samples',
    help: 'Samples in the latency window.',
    registers: [registry],
    collect() {
      this.set((summary ?? source.latency()).samples);
    },
  });
  const deliveries = source.deliveries?.bind(source);
  if (deliveries !== undefined) {
    mirroredCounter(
      registry,
      'tickwire_updates_delivered_total',
      'Updates handed to subscribers: one per update per subscriber (a batch of 100 to 2 subscribers adds 200).',
      deliveries,
    );
  }
  const ready = source.ready?.bind(source);
  if (ready !== undefined) {
    new Gauge({
      name: 'tickwire_ready',
      help: '1 while /readyz answers 200 (listening, not shutting down, the NATS bus caught up), else 0.',
      registers: [registry],
      collect() {
        this.set(ready() ? 1 : 0);
      },
    });
  }
  const histogram = source.latencyHistogram?.bind(source);
  if (histogram !== undefined) registerLatencyHistogram(registry, histogram);
  registerRefusals(registry, source);
  registerBus(registry, source);
  registerJournal(registry, source);
  registerHandlerErrors(registry, source);
  registerHistory(registry, source);
  return registry;
}

/** Bytes the recovery history holds, its budget, and updates evicted to keep within it. */
function registerHistory(registry: Registry, source: MetricsSource): void {
  const read = source.history?.bind(source);
  if (read === undefined) return;
  new Gauge({
    name: 'tickwire_history_bytes',
    help: 'Bytes the recovery history of all symbols holds (last values included).',
    registers: [registry],
    collect() {
      this.set(read().bytes);
    },
  });
  new Gauge({
    name: 'tickwire_history_bytes_limit',
    help: 'The history byte budget (--history-bytes).',
    registers: [registry],
    collect() {
      this.set(read().limit);
    },
  });
  mirroredCounter(
    registry,
    'tickwire_history_evicted_total',
    'Updates evicted from the history, oldest first, to keep within --history-bytes.',
    () => read().evicted,
  );
}

/** Exceptions the last-resort guard caught, per route and handler (every one is a bug). */
function registerHandlerErrors(registry: Registry, source: MetricsSource): void {
  const read = source.handlerErrors?.bind(source);
  if (read === undefined) return;
  const last = new Map<string, number>();
  new Counter({
    name: 'tickwire_handler_errors_total',
    help: 'Exceptions caught at a uWS handler entry (the connection closed with 1011 internal_error, or HTTP 500); each is a bug, logged once per cause.',
    labelNames: ['route', 'handler'],
    registers: [registry],
    collect() {
      for (const { route, handler, count } of read()) {
        const key = `${route} ${handler}`;
        // inc by 0 makes the series exist from the start.
        this.inc({ route, handler }, count - (last.get(key) ?? 0));
        last.set(key, count);
      }
    },
  });
}

function registerJournal(registry: Registry, source: MetricsSource): void {
  const journal = source.journal?.bind(source);
  if (journal === undefined) return;
  const gauges: [string, string, (j: JournalSource) => number][] = [
    [
      'tickwire_journal_records',
      'Journal: records appended (the last record index).',
      (j) => j.lastIndex,
    ],
    [
      'tickwire_journal_unwritten_bytes',
      'Journal: bytes appended and not yet written to the OS (feeds are refused past 64 MiB).',
      (j) => j.bufferedBytes,
    ],
    [
      'tickwire_journal_unsynced_records',
      'Journal: records written and not yet covered by an fdatasync.',
      (j) => j.writtenIndex - j.durableIndex,
    ],
    [
      'tickwire_journal_failed',
      'Journal: 1 after a file-system error stopped it (feeds refused, not ready).',
      (j) => (j.failed ? 1 : 0),
    ],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const j = journal();
        this.set(j === undefined ? 0 : read(j));
      },
    });
  }
}

function registerBus(registry: Registry, source: MetricsSource): void {
  const bus = source.bus?.bind(source);
  if (bus === undefined) return;
  new Gauge({
    name: 'tickwire_bus_connected',
    help: 'NATS bus: 1 while connected to NATS, the stream there, and caught up with it.',
    registers: [registry],
    collect() {
      const b = bus();
      this.set(b.connected && b.stream_ready && b.caught_up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tickwire_bus_pending_ticks',
    help: 'NATS bus: ticks accepted from feeds and not yet stored in JetStream.',
    registers: [registry],
    collect() {
      this.set(bus().pending);
    },
  });
  new Gauge({
    name: 'tickwire_bus_pending_bytes',
    help: 'NATS bus: bytes of the ticks accepted from feeds and not yet stored in JetStream.',
    registers: [registry],
    collect() {
      this.set(bus().pending_bytes);
    },
  });
  const counters: [string, string, (b: BusStats) => number][] = [
    [
      'tickwire_bus_ticks_stored_total',
      'NATS bus: ticks this node stored in JetStream.',
      (b) => b.stored,
    ],
    [
      'tickwire_bus_append_conflicts_total',
      'NATS bus: appends refused because another node numbered the symbol first (renumbered and retried).',
      (b) => b.conflicts,
    ],
    [
      'tickwire_bus_append_retries_total',
      'NATS bus: appends retried after an error or timeout.',
      (b) => b.retries,
    ],
    ['tickwire_bus_reconnects_total', 'NATS bus: reconnections to NATS.', (b) => b.reconnects],
    [
      'tickwire_bus_consumer_restarts_total',
      'NATS bus: stream consumers recreated (after a reconnect or a stall).',
      (b) => b.consumer_restarts,
    ],
    [
      'tickwire_bus_ticks_failed_total',
      'NATS bus: accepted ticks JetStream refused for good (acked as rejected).',
      (b) => b.failed,
    ],
    [
      'tickwire_bus_stream_resets_total',
      'NATS bus: times the stream turned out to be a new one (NATS lost its store); numbering continued.',
      (b) => b.stream_resets,
    ],
    [
      'tickwire_bus_gaps_total',
      "NATS bus: batches that skipped updates this node never read (the symbol's subscribers were resynced).",
      (b) => b.gaps,
    ],
    [
      'tickwire_bus_updates_missed_total',
      'NATS bus: updates skipped by those gaps.',
      (b) => b.missed,
    ],
    [
      'tickwire_bus_rewinds_total',
      "NATS bus: batches whose numbering went back (a new stream; the symbol's subscribers were resynced).",
      (b) => b.rewinds,
    ],
    [
      'tickwire_bus_bad_messages_total',
      'NATS bus: stream messages that were not tickwire batches (skipped).',
      (b) => b.bad_messages,
    ],
  ];
  for (const [name, help, read] of counters)
    mirroredCounter(registry, name, help, () => read(bus()));
}

/** Refusal counters: upgrades refused by reason, rate-limited feed frames and closes. */
function registerRefusals(registry: Registry, source: MetricsSource): void {
  const refused = source.refused?.bind(source);
  if (refused === undefined) return;
  const last = { global: 0, per_ip: 0, origin: 0 };
  new Counter({
    name: 'tickwire_connections_refused_total',
    help: 'WebSocket upgrades refused: global limit (503), per-IP limit (429), origin (403).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const r = refused();
      const now = { global: r.connectionsGlobal, per_ip: r.connectionsPerIp, origin: r.origin };
      for (const reason of ['global', 'per_ip', 'origin'] as const) {
        this.inc({ reason }, now[reason] - last[reason]);
        last[reason] = now[reason];
      }
    },
  });
  mirroredCounter(
    registry,
    'tickwire_feed_frames_rate_limited_total',
    'Feed frames refused whole for exceeding the per-feed tick rate.',
    () => refused().rateLimitedFrames,
  );
  mirroredCounter(
    registry,
    'tickwire_feeds_rate_limit_closed_total',
    'Feeds closed (1008 rate_limited) for staying over their tick rate.',
    () => refused().rateLimitedCloses,
  );
  mirroredCounter(
    registry,
    'tickwire_feeds_slow_consumer_closed_total',
    'Feeds closed (1008 slow_consumer) with more than --max-backpressure bytes of acks and errors unread.',
    () => refused().slowConsumerFeedCloses ?? 0,
  );
}
