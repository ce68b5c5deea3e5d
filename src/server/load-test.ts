/**
 * The built-in load test behind `POST /admin/loadtest`: a synthetic feed
 * (DemoFeed) driven at the requested rate through a pipeline of its own,
 * plus N WebSocket subscribers (the `ws` package) connected from inside the
 * process to the load-test app's wildcard topic (load-test-fanout.ts). One
 * run at a time; the latest run's status and result are kept for
 * `GET /admin/loadtest`.
 *
 * Synthetic traffic lives in its own namespace: its own Pipeline (symbol
 * table, numbering, last values, latency window, counters; no history, no
 * bus) publishing into its own uWS app, which only this run's subscribers
 * can join. The server's symbols, numbering, history, snapshots, /stats,
 * /metrics and the NATS bus never see a synthetic tick, and no real
 * subscriber receives one.
 *
 * Result: ticks/s accepted by the load-test pipeline, deliveries/s (updates
 * handed to the load-test sockets, per subscriber, counted by its
 * publisher), messages/s the in-process subscribers actually received, and
 * the load-test pipeline's latency p50/p99 over the run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Config } from '../config.js';
import { DemoFeed } from '../pipeline/demo-feed.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { ServerCore } from './core.js';
import { LoadTestFanout } from './load-test-fanout.js';
import { uwsNative } from './uws.js';

/** Bytes of randomness in a run's key (load-test-fanout.ts). */
const KEY_BYTES = 32;
/** How long the subscribers get to read what was sent before the count is taken. */
const DRAIN_MS = 200;

export const LOAD_TEST_LIMITS = Object.freeze({
  rate: { min: 1, max: 50_000, default: 10_000 },
  symbols: { min: 1, max: 1000, default: 100 },
  subscribers: { min: 0, max: 100, default: 10 },
  duration: { min: 1, max: 30, default: 5 },
});

export interface LoadTestParams {
  /** Ticks per second fed into the pipeline. */
  readonly rate: number;
  readonly symbols: number;
  /** WebSocket subscribers on "*". */
  readonly subscribers: number;
  /** Seconds. */
  readonly duration: number;
}

export interface LoadTestResult {
  readonly duration_s: number;
  readonly ticks: number;
  readonly ticks_per_s: number;
  readonly deliveries: number;
  readonly deliveries_per_s: number;
  readonly messages_received: number;
  readonly messages_received_per_s: number;
  readonly latency_us: { readonly p50: number; readonly p99: number };
}

export interface LoadTestStatus {
  readonly id: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly params: LoadTestParams;
  readonly started_at: string;
  readonly finished_at?: string;
  readonly result?: LoadTestResult;
  readonly error?: string;
}

/** Validates a request body; returns the params or an error message. */
export function parseLoadTestParams(body: unknown): LoadTestParams | string {
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const raw = body as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const [key, lim] of Object.entries(LOAD_TEST_LIMITS)) {
    const v = raw[key] ?? lim.default;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lim.min || v > lim.max) {
      return `${key} must be an integer from ${lim.min} to ${lim.max}`;
    }
    out[key] = v;
  }
  return out as unknown as LoadTestParams;
}

export class LoadTester {
  readonly #config: Config;
  /** Created with the first run, kept for the next ones (a uWS app cannot be freed). */
  #fanout: LoadTestFanout | undefined;
  #latest: LoadTestStatus | undefined;
  #stop: (() => void) | undefined;
  #aborted = false;

  constructor(core: Pick<ServerCore, 'config'>) {
    this.#config = core.config;
  }

  get running(): boolean {
    return this.#latest?.state === 'running';
  }

  get latest(): LoadTestStatus | undefined {
    return this.#latest;
  }

  /** Load-test subscriber connections open now (they never count as /stream subscribers). */
  get connections(): number {
    return this.#fanout?.connections ?? 0;
  }

  /** Starts a run; returns its id, or undefined when one is already running. */
  start(params: LoadTestParams): string | undefined {
    if (this.running) return undefined;
    const id = randomUUID();
    const startedAt = new Date().toISOString();
    this.#latest = { id, state: 'running', params, started_at: startedAt };
    this.#aborted = false;
    this.#run(params).then(
      (result) => {
        this.#latest = {
          id,
          state: 'done',
          params,
          started_at: startedAt,
          finished_at: new Date().toISOString(),
          result,
        };
      },
      (err: unknown) => {
        this.#latest = {
          id,
          state: 'failed',
          params,
          started_at: startedAt,
          finished_at: new Date().toISOString(),
          error: err instanceof Error ? err.message : String(err),
        };
      },
    );
    return id;
  }

  /** Ends a running test early and closes its connections (server shutdown). */
  abort(): void {
    this.#aborted = true;
    this.#stop?.();
    this.#fanout?.close();
  }

  async #run(params: LoadTestParams): Promise<LoadTestResult> {
    if (!uwsNative) throw new Error('the load test needs the native uWebSockets.js binary');
    const fanout = (this.#fanout ??= new LoadTestFanout(this.#config.maxBackpressure));
    // A fresh namespace per run: numbering from 1, an empty latency window.
    const pipeline = new Pipeline(fanout.publisher, {
      maxSymbols: params.symbols,
      latencyWindow: this.#config.latencyWindow,
      history: 0,
    });
    let received = 0;
    const sockets: WebSocket[] = [];
    const closeAll = (): void => {
      for (const ws of sockets) ws.terminate();
      fanout.close();
    };
    if (params.subscribers > 0) {
      try {
        const url = fanout.listen(randomBytes(KEY_BYTES).toString('base64url'));
        await Promise.all(
          Array.from(
            { length: params.subscribers },
            () =>
              new Promise<void>((resolve, reject) => {
                const ws = new WebSocket(url, { perMessageDeflate: false });
                sockets.push(ws);
                ws.on('message', () => {
                  received++;
                });
                ws.once('open', () => resolve());
                // Kept for the socket's life: an 'error' with no listener would throw.
                ws.on('error', reject);
              }),
          ),
        );
      } catch (err) {
        closeAll();
        throw err;
      } finally {
        // Every subscriber is in (their `open` follows the server's): no one else may join.
        fanout.stopListening();
      }
    }
    const deliveries0 = fanout.publisher.deliveries;
    const t0 = performance.now();
    const feed = new DemoFeed({ symbols: params.symbols, ticksPerSecond: params.rate }, (frame) => {
      pipeline.process(frame, performance.now());
    });
    if (!this.#aborted) {
      feed.start();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.duration * 1000);
        this.#stop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#stop = undefined;
      feed.stop();
    }
    // What the last turn held is published (and counted) before the count.
    pipeline.flush();
    const elapsed = (performance.now() - t0) / 1000;
    const ticks = pipeline.counters.ticksPublished;
    const deliveries = fanout.publisher.deliveries - deliveries0;
    // Give the subscribers a moment to read what was already sent.
    if (!this.#aborted) await new Promise((r) => setTimeout(r, DRAIN_MS));
    const messages = received;
    const latency = pipeline.latency.summary();
    closeAll();
    const rate = (n: number): number => (elapsed > 0 ? Math.round(n / elapsed) : 0);
    return {
      duration_s: Math.round(elapsed * 100) / 100,
      ticks,
      ticks_per_s: rate(ticks),
      deliveries,
      deliveries_per_s: rate(deliveries),
      messages_received: messages,
      messages_received_per_s: rate(messages),
      latency_us: { p50: latency.p50, p99: latency.p99 },
    };
  }
}
