/**
 * The built-in load test behind `POST /admin/loadtest`: a synthetic feed
 * (DemoFeed) driven through pipeline.process at the requested rate, plus N
 * real WebSocket subscribers (the `ws` package) connected from inside the
 * process to its own /stream with "*". One run at a time; the latest run's
 * status and result are kept for `GET /admin/loadtest`.
 *
 * Result: ticks/s accepted by the pipeline, deliveries/s (updates handed to
 * subscriber sockets, per subscriber, counted by the publisher), messages/s the in-process
 * subscribers actually received, and pipeline latency p50/p99 from the
 * latency window at the end of the run.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { DemoFeed } from '../pipeline/demo-feed.js';
import type { ServerCore } from './core.js';

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
  readonly #core: ServerCore;
  readonly #port: () => number;
  #latest: LoadTestStatus | undefined;
  #stop: (() => void) | undefined;

  constructor(core: ServerCore, port: () => number) {
    this.#core = core;
    this.#port = port;
  }

  get running(): boolean {
    return this.#latest?.state === 'running';
  }

  get latest(): LoadTestStatus | undefined {
    return this.#latest;
  }

  /** Starts a run; returns its id, or undefined when one is already running. */
  start(params: LoadTestParams): string | undefined {
    if (this.running) return undefined;
    const id = randomUUID();
    const startedAt = new Date().toISOString();
    this.#latest = { id, state: 'running', params, started_at: startedAt };
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

  /** Ends a running test early (server shutdown). */
  abort(): void {
    this.#stop?.();
  }

  async #run(params: LoadTestParams): Promise<LoadTestResult> {
    const { config, pipeline, publisher } = this.#core;
    const host =
      config.host === '0.0.0.0' || config.host === '::' || config.host === ''
        ? '127.0.0.1'
        : config.host;
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${this.#port()}/stream?symbols=*`;
    const headers: Record<string, string> =
      config.streamToken === undefined ? {} : { authorization: `Bearer ${config.streamToken}` };
    let received = 0;
    const sockets: WebSocket[] = [];
    const closeAll = (): void => {
      for (const ws of sockets) ws.terminate();
    };
    try {
      await Promise.all(
        Array.from(
          { length: params.subscribers },
          () =>
            new Promise<void>((resolve, reject) => {
              const ws = new WebSocket(url, { headers });
              sockets.push(ws);
              ws.on('message', () => {
                received++;
              });
              ws.once('open', () => resolve());
              ws.once('error', reject);
            }),
        ),
      );
    } catch (err) {
      closeAll();
      throw err;
    }
    // Let the subscribed/snapshot replies pass before counting.
    await new Promise((r) => setTimeout(r, 100));
    const c = pipeline.counters;
    const ticks0 = c.ticksPublished;
    const deliveries0 = publisher.deliveries;
    const received0 = received;
    const t0 = performance.now();
    const feed = new DemoFeed({ symbols: params.symbols, ticksPerSecond: params.rate }, (frame) => {
      pipeline.process(frame, performance.now());
    });
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
    const elapsed = (performance.now() - t0) / 1000;
    const ticks = c.ticksPublished - ticks0;
    const deliveries = publisher.deliveries - deliveries0;
    // Give the subscribers a moment to drain what was already sent.
    await new Promise((r) => setTimeout(r, 200));
    const messages = received - received0;
    const latency = pipeline.latency.summary();
    closeAll();
    const rate = (n: number): number => Math.round(n / elapsed);
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
