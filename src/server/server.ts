/**
 * The tickwire server: one uWS app with the /feed and /stream WebSocket
 * routes and the HTTP routes, the pipeline behind them, and the lifecycle
 * (listen, ready, graceful stop).
 */
import type { Registry } from 'prom-client';
import type { TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { ListenError, UwsFallbackError } from '../errors.js';
import { type BusStats, NatsBus } from '../bus/nats-bus.js';
import { createMetrics } from '../metrics.js';
import { CloseCode } from '../protocol/codes.js';
import { DemoFeed } from '../pipeline/demo-feed.js';
import type { LatencySummary } from '../pipeline/latency-window.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { Conflation, type SlowConsumerReport } from './conflation.js';
import { ConnectionCounts, type ServerCore } from './core.js';
import { feedBehavior } from './feed-route.js';
import { registerHttpRoutes } from './http-routes.js';
import type { SocketData } from './socket-data.js';
import { streamBehavior } from './stream-route.js';
import { LoadTester } from './load-test.js';
import { loadAssets } from './static.js';
import { STATS_TOPIC, statsStreamBehavior } from './stats-stream.js';
import { UwsPublisher } from './uws-publisher.js';
import { uws, uwsNative } from './uws.js';
import { Admission } from './admission.js';
import { HandlerGuard } from './guard.js';
import { listenFailureCause } from './listen-failure.js';
import { HealthListener } from './health-listener.js';
import { JournalLink } from './journal-link.js';
import { workerIndex } from '../workers.js';
import type { RefusedStats } from './refusals.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often subscribers' send buffers are checked against maxBackpressure. */
const SLOW_CONSUMER_SWEEP_MS = 100;
/** How often rates are computed and a snapshot is sent on /stats/stream. */
const STATS_INTERVAL_MS = 1000;
/** Close reason of every socket at shutdown. */
const GOING_AWAY = 'going_away: server shutting down';
/**
 * Close reason for subscribers of a symbol whose numbering this node could
 * not continue without a jump (NATS mode; see Pipeline.deliverBatch). Not an
 * error code: the client did nothing wrong and should just resubscribe with
 * `since` (the SDK does), getting recovered:false and a snapshot.
 */
const RESYNC = 'resync';
/** How often stop() looks at the subscribers' queues while draining. */
const DRAIN_POLL_MS = 10;
/** Time left after the last close frames before stop() resolves (and the process exits). */
const CLOSE_LINGER_MS = 100;
/**
 * uWS listen options (uSockets' LIBUS_LISTEN_*). By default uWS sets
 * SO_REUSEPORT, so a second tickwire of the same user on the same port would
 * start and silently take half of the new connections: with --workers 1 the
 * port is taken exclusively (the second start fails with listen_failed,
 * EADDRINUSE); the processes of --workers N share it on purpose (workers.ts).
 */
const LISTEN_SHARED = 0;
const LISTEN_EXCLUSIVE = 1;
/**
 * `listen(host, port, options, cb)`: in both binaries (uWS 20.30 on Node 20,
 * v20.69 on Node 22/24) and the JS emulation, but not in the typings.
 */
interface ListensWithOptions {
  listen(
    host: string,
    port: number,
    options: number,
    cb: (token: us_listen_socket | false) => void,
  ): unknown;
}

/** Per-second rates over the last stats interval. */
export interface Rates {
  readonly ticks_in: number;
  readonly updates_out: number;
  readonly frames_in: number;
}

/** What /stats/stream sends once per second: /stats plus rates and memory. */
export interface StatsSnapshot extends StatsBody {
  readonly time: number;
  readonly rates: Rates;
  readonly deliveries: number;
  readonly memory: {
    readonly rss: number;
    readonly heap_used: number;
    readonly heap_total: number;
  };
  readonly connections_stats: number;
  /** Whether the admin routes (load test) are enabled. */
  readonly admin_enabled: boolean;
}

export interface StatsBody {
  readonly uptime_s: number;
  readonly started_at: string;
  readonly ticks: {
    readonly received: number;
    readonly published: number;
    readonly rejected: number;
  };
  readonly frames: { readonly received: number; readonly bad: number };
  readonly connections: { readonly feeds: number; readonly subscribers: number };
  readonly slow_consumers_closed: number;
  /** Conflation, drops and slow_consumer closes (see conflation.ts). */
  readonly slow_consumers: SlowConsumerReport;
  /** Refused upgrades and rate-limited feed frames (see refusals.ts). */
  readonly refused: RefusedStats;
  /** The connection limits in force (main.ts may lower them to fit the open-file limit). */
  readonly limits: { readonly max_connections: number; readonly max_connections_per_ip: number };
  readonly symbols: number;
  /** Bytes the recovery history holds, its budget (--history-bytes), updates evicted to keep within it. */
  readonly history: { readonly bytes: number; readonly limit: number; readonly evicted: number };
  /** The identity of the numbering every `n` belongs to (docs/protocol.md, epochs). */
  readonly epoch: string;
  readonly latency_us: LatencySummary;
  readonly uws: { readonly native: boolean };
  readonly demo: boolean;
  /** The bus: embedded (in-process) or NATS with its connection state and counters. */
  readonly bus: { readonly kind: 'embedded' } | BusStats;
  /** The process serving this request (several share a port with --workers). */
  readonly pid: number;
}

export class TickwireServer implements ServerCore {
  readonly config: Config;
  readonly pipeline: Pipeline;
  readonly sockets = new Set<WebSocket<SocketData>>();
  readonly connections = new ConnectionCounts();
  readonly metrics: Registry;
  readonly publisher: UwsPublisher;
  /** The NATS bus, when --nats is set (else the embedded bus: the pipeline itself). */
  readonly bus: NatsBus | undefined;
  readonly admission: Admission;
  /** The last-resort try/catch around every uWS handler (guard.ts). */
  readonly guard = new HandlerGuard();
  readonly #app: TemplatedApp;
  readonly #startedAt = Date.now();
  #listenSocket: us_listen_socket | undefined;
  #port = 0;
  /** The plain health listener (--health-port), from start() until stop() ends. */
  #health: HealthListener | undefined;
  /** The journal (--journal), from start() on. */
  #journal: JournalLink | undefined;
  #stopping = false;
  #demo: DemoFeed | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  readonly loadTester: LoadTester;
  /** Stats listeners on /stats/stream. */
  statsListeners = 0;
  #rates: Rates = { ticks_in: 0, updates_out: 0, frames_in: 0 };
  #last = { at: performance.now(), ticks: 0, deliveries: 0, frames: 0 };

  constructor(config: Config) {
    if (!uwsNative && !config.allowUwsFallback) {
      throw new UwsFallbackError(
        'UWS_USE_FALLBACK is set, so uWebSockets.js loaded its JS emulation instead of the native binary, ' +
          'and the emulation cannot serve /feed or /stream. Unset UWS_USE_FALLBACK, or pass ' +
          '--allow-uws-fallback to start in HTTP-only diagnostic mode (/readyz answers 503).',
      );
    }
    this.config = config;
    this.admission = new Admission(config);
    this.#app = uws.App();
    this.publisher = new UwsPublisher(this.#app);
    this.pipeline = new Pipeline(this.publisher, {
      maxSymbols: config.maxSymbols,
      latencyWindow: config.latencyWindow,
      history: config.history,
      historyBytes: config.historyBytes,
      coalesce: config.coalesce,
    });
    // NATS mode: the bus numbers ticks and feeds every node's pipeline.
    if (config.nats !== undefined) {
      this.bus = new NatsBus(this.pipeline, {
        servers: config.nats,
        history: config.history,
        replicas: config.natsReplicas,
        retainPerSubject: config.natsRetain,
        maxBytes: config.natsMaxBytes,
        maxPendingBytes: config.natsMaxPending,
        onResync: (entry) => this.#resyncSubscribers(entry.name),
      });
    }
    this.metrics = createMetrics({
      counters: this.pipeline.counters,
      connections: () => this.connections,
      symbols: () => this.pipeline.symbols.size,
      latency: () => this.pipeline.latency.summary(),
      latencyHistogram: () => this.pipeline.latency.histogram.snapshot(),
      ready: () => this.ready,
      deliveries: () => this.publisher.deliveries,
      refused: () => this.admission.refused,
      ...(this.bus === undefined ? {} : { bus: () => this.bus!.stats() }),
      handlerErrors: () => this.guard.counts(),
      history: () => this.pipeline.symbols.historyBudget,
      ...(config.journal === undefined ? {} : { journal: () => this.#journal?.writer }),
    });
    // The JS fallback of this uWS build cannot run custom upgrade handlers
    // (it throws "not implemented" and takes the process down), so on it the
    // WebSocket routes are not registered: HTTP-only diagnostics, not ready.
    if (uwsNative) {
      // Every handler inside one try/catch: no exception can end the process.
      const guard = this.guard;
      this.#app.ws<SocketData>('/feed', guard.behavior('/feed', feedBehavior(this)));
      this.#app.ws<SocketData>('/stream', guard.behavior('/stream', streamBehavior(this)));
      this.#app.ws<SocketData>(
        '/stats/stream',
        guard.behavior('/stats/stream', statsStreamBehavior(this)),
      );
    }
    this.loadTester = new LoadTester(this);
    registerHttpRoutes(this.guard.http(this.#app), {
      stats: () => this.stats(),
      ready: () => this.ready,
      metrics: this.metrics,
      assets: loadAssets(),
      adminToken: config.adminToken,
      loadTester: this.loadTester,
    });
  }

  /**
   * Closes (1011 resync) every subscriber that gets `symbol` live, by name or
   * through "*", before this node hands out an update of it that does not
   * follow the last one. Their queued updates are still sent first; the
   * client resubscribes with `since` and gets recovered:false and a
   * snapshot, instead of a silent jump in `n`. Rare (a gap or a new stream),
   * so a walk over the sockets is fine.
   */
  #resyncSubscribers(symbol: string): void {
    // The updates this turn holds for them go out before they are closed.
    this.pipeline.flush();
    for (const ws of [...this.sockets]) {
      const data = ws.getUserData();
      if (data.kind !== 'stream' || data.closed) continue;
      if (data.all || data.symbols.has(symbol)) {
        ws.end(
          CloseCode.InternalError,
          `${RESYNC}: this node missed updates of ${symbol}; resubscribe with since`,
        );
      }
    }
  }

  /** Connects the NATS bus in the background; retried until stopped. */
  #startBus(bus: NatsBus): void {
    bus.start().catch((err: unknown) => {
      if (this.#stopping) return;
      process.stderr.write(
        `tickwire: NATS bus: ${err instanceof Error ? err.message : String(err)}; retrying\n`,
      );
      setTimeout(() => {
        if (!this.#stopping) this.#startBus(bus);
      }, 1000).unref();
    });
  }

  /** The journal (--journal) once start() opened it. */
  get journal(): JournalLink | undefined {
    return this.#journal;
  }

  /** The port actually listened on (after start). */
  get port(): number {
    return this.#port;
  }

  get ready(): boolean {
    return (
      this.#listenSocket !== undefined &&
      !this.#stopping &&
      uwsNative &&
      (this.bus === undefined || this.bus.ready) &&
      this.#journal?.writer.failed !== true
    );
  }

  /** The port of the health listener (--health-port) while it listens, else undefined. */
  get healthPort(): number | undefined {
    return this.#health?.port;
  }

  /**
   * Listens on config.host:config.port, and first on config.healthPort when
   * set (health-listener.ts); resolves with the real port. Rejects with
   * listen_failed when either cannot listen, leaving neither open. Only the
   * first process of --workers N serves the health port (node:http cannot
   * share a port on Node 20), so its /readyz is that process's readiness.
   */
  async start(): Promise<number> {
    const { host, healthPort } = this.config;
    // The journal first: the pipeline is rebuilt before anyone can connect.
    if (this.config.journal !== undefined && this.#journal === undefined) {
      this.#journal = await JournalLink.open(this.config, this.pipeline);
      logJournalStart(this.#journal);
    }
    if (healthPort !== undefined && workerIndex() === 0) {
      const health = new HealthListener({ ready: () => this.ready });
      try {
        await health.listen(host, healthPort);
      } catch {
        const cause = await listenFailureCause(host, healthPort);
        throw new ListenError(
          `could not listen on ${host}:${healthPort} (--health-port): ${cause}`,
        );
      }
      this.#health = health;
    }
    try {
      return await this.#listen();
    } catch (err) {
      await this.#health?.close();
      this.#health = undefined;
      throw err;
    }
  }

  #listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const options = this.config.workers > 1 ? LISTEN_SHARED : LISTEN_EXCLUSIVE;
      const app = this.#app as unknown as ListensWithOptions;
      app.listen(this.config.host, this.config.port, options, (token) => {
        if (token === false) {
          // uWS gives no cause: listen-failure.ts finds the errno (never rejects).
          const { host, port } = this.config;
          void listenFailureCause(host, port).then((cause) =>
            reject(new ListenError(`could not listen on ${host}:${port}: ${cause}`)),
          );
          return;
        }
        this.#listenSocket = token;
        this.#port = uws.us_socket_local_port(token);
        this.#sweep = setInterval(() => this.#sweepSlowConsumers(), SLOW_CONSUMER_SWEEP_MS);
        this.#sweep.unref();
        this.#statsTimer = setInterval(() => this.#tickStats(), STATS_INTERVAL_MS);
        this.#statsTimer.unref();
        if (this.config.demo) {
          this.#demo = new DemoFeed(
            { symbols: this.config.demoSymbols, ticksPerSecond: this.config.demoRate },
            (frame) => {
              if (this.#journal?.refusing !== true) this.pipeline.process(frame, performance.now());
            },
          );
          this.#demo.start();
        }
        if (this.bus !== undefined) this.#startBus(this.bus);
        resolve(this.#port);
      });
    });
  }

  /**
   * Graceful stop (SIGTERM/SIGINT), resolved within `timeoutMs` (default
   * config.drainTimeoutS):
   * 1. not ready at once; no new upgrades (503) and the listen socket closed;
   * 2. no new ticks: on the embedded bus feeds are closed with 1001 (every
   *    tick a feed got an ack for has been published by then); in NATS mode
   *    feeds' new frames are refused (rate_limited, acked as rejected) while
   *    the ticks already accepted are stored and come back through the
   *    stream, so their acks reach the feeds; then the feeds are closed;
   * 3. wait until every remaining socket's queued bytes were handed to the
   *    kernel (`getBufferedAmount()` 0), or the timeout comes near;
   * 4. subscribers and stats listeners closed with 1001 `going_away`, after
   *    their data; then a short linger so the close handshakes get through
   *    before the process exits;
   * 5. the health listener (--health-port), which answered /readyz 503 all
   *    along, closes.
   */
  async stop(timeoutMs = this.config.drainTimeoutS * 1000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const deadline = performance.now() + timeoutMs;
    this.admission.close();
    this.#demo?.stop();
    this.loadTester.abort();
    clearInterval(this.#statsTimer);
    if (this.#listenSocket !== undefined) {
      uws.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = undefined;
    }
    // Bus mode: ticks already accepted are stored and come back through the
    // stream before the subscriber queues are drained; feeds stay open for
    // their acks meanwhile, but their new frames are refused.
    if (this.bus !== undefined) {
      this.bus.stopAccepting();
      await this.bus.drain(Math.max(0, deadline - CLOSE_LINGER_MS - performance.now()));
    }
    // end() runs the close handler at once (removing the socket from the set).
    for (const ws of [...this.sockets]) {
      const data = ws.getUserData();
      if (data.kind === 'feed' && !data.closed) ws.end(CloseCode.GoingAway, GOING_AWAY);
    }
    // Updates held for the end of this turn go out now (turn-batcher.ts).
    // uWS writes publishes at the end of an event-loop iteration, so the
    // queues are read after at least one wait.
    this.pipeline.flush();
    const drainUntil = deadline - CLOSE_LINGER_MS;
    do {
      await sleep(DRAIN_POLL_MS);
    } while (performance.now() < drainUntil && this.#anyQueued());
    clearInterval(this.#sweep);
    for (const ws of [...this.sockets]) {
      if (!ws.getUserData().closed) ws.end(CloseCode.GoingAway, GOING_AWAY);
    }
    await sleep(Math.max(0, Math.min(CLOSE_LINGER_MS, deadline - performance.now())));
    for (const ws of [...this.sockets]) {
      if (!ws.getUserData().closed) ws.close();
    }
    await this.bus?.close();
    // Every update is published; the journal writes, syncs and is marked clean.
    if (this.#journal !== undefined) {
      try {
        await this.#journal.close();
      } catch (err) {
        process.stderr.write(
          `tickwire: journal: not closed cleanly (${err instanceof Error ? err.message : String(err)}); the next start takes a new epoch\n`,
        );
      }
    }
    // Last: the health listener answered /readyz 503 all through the drain,
    // so load balancers that check it saw the node leave.
    await this.#health?.close();
    this.#health = undefined;
  }

  /** Whether any open socket still has bytes queued in uWS (not yet in the kernel). */
  #anyQueued(): boolean {
    for (const ws of this.sockets) {
      if (!ws.getUserData().closed && ws.getBufferedAmount() > 0) return true;
    }
    return false;
  }

  stats(): StatsBody {
    const c = this.pipeline.counters;
    return {
      uptime_s: Math.round((Date.now() - this.#startedAt) / 100) / 10,
      started_at: new Date(this.#startedAt).toISOString(),
      ticks: { received: c.ticksReceived, published: c.ticksPublished, rejected: c.ticksRejected },
      frames: { received: c.framesReceived, bad: c.framesBad },
      connections: { feeds: this.connections.feeds, subscribers: this.connections.subscribers },
      slow_consumers_closed: this.connections.slowConsumersClosed,
      slow_consumers: this.conflation.report(),
      refused: this.admission.refused.stats(),
      limits: {
        max_connections: this.config.maxConnections,
        max_connections_per_ip: this.config.maxConnectionsPerIp,
      },
      symbols: this.pipeline.symbols.size,
      history: {
        bytes: this.pipeline.symbols.historyBudget.bytes,
        limit: this.pipeline.symbols.historyBudget.limit,
        evicted: this.pipeline.symbols.historyBudget.evicted,
      },
      epoch: this.pipeline.epoch,
      latency_us: this.pipeline.latency.summary(),
      uws: { native: uwsNative },
      demo: this.config.demo,
      bus: this.bus === undefined ? { kind: 'embedded' } : this.bus.stats(),
      pid: process.pid,
    };
  }

  /** The snapshot /stats/stream sends: /stats plus rates and memory. */
  statsSnapshot(): StatsSnapshot {
    const mem = process.memoryUsage();
    return {
      ...this.stats(),
      time: Date.now(),
      rates: this.#rates,
      deliveries: this.publisher.deliveries,
      memory: { rss: mem.rss, heap_used: mem.heapUsed, heap_total: mem.heapTotal },
      connections_stats: this.statsListeners,
      admin_enabled: this.config.adminToken !== undefined,
    };
  }

  /** Once per second: update the rates and publish a snapshot to /stats/stream. */
  #tickStats(): void {
    const c = this.pipeline.counters;
    const now = performance.now();
    const dt = (now - this.#last.at) / 1000;
    if (dt > 0) {
      this.#rates = {
        ticks_in: Math.round((c.ticksReceived - this.#last.ticks) / dt),
        updates_out: Math.round((this.publisher.deliveries - this.#last.deliveries) / dt),
        frames_in: Math.round((c.framesReceived - this.#last.frames) / dt),
      };
    }
    this.#last = {
      at: now,
      ticks: c.ticksReceived,
      deliveries: this.publisher.deliveries,
      frames: c.framesReceived,
    };
    if (this.statsListeners > 0 && uwsNative) {
      this.#app.publish(STATS_TOPIC, JSON.stringify(this.statsSnapshot()), false);
    }
  }

  /** The slow-consumer policy (created on first use; it reads config and pipeline). */
  get conflation(): Conflation {
    return (this.#conflation ??= new Conflation(this));
  }

  #conflation: Conflation | undefined;

  /**
   * Checks every subscriber's queue (see conflation.ts): past conflateAt it
   * gets conflated delivery; past maxBackpressure, or conflated without
   * draining for stallTimeoutS, it is closed with 1008 slow_consumer, before
   * uWS would have to cut it abruptly at its own cap. Also catches a
   * conflated subscriber up when no drain event came.
   */
  #sweepSlowConsumers(): void {
    const now = performance.now();
    const conflation = this.conflation;
    for (const ws of this.sockets) conflation.check(ws, now);
  }
}

/** One line for what the journal held at start, and one more if a torn tail was cut. */
function logJournalStart(link: JournalLink): void {
  const r = link.report;
  const t = r.torn;
  if (t !== undefined) {
    process.stderr.write(
      `tickwire: journal: cut a torn tail of ${t.bytes} bytes at ${t.file}:${t.offset} (${t.reason}): the record being written when the last run stopped\n`,
    );
  }
  process.stderr.write(
    r.created
      ? `tickwire: journal ${r.dir}: new, epoch ${r.epoch}\n`
      : `tickwire: journal ${r.dir}: ${r.records} records, ${r.symbols} symbols and ${r.updates} updates restored, epoch ${r.epoch}${r.clean ? '' : ' (new: the last run did not stop cleanly, see docs/journal.md)'}\n`,
  );
}
