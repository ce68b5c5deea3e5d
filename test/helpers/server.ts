/**
 * An in-process tickwire server on an ephemeral port, plus feed/stream
 * connection shortcuts and plain HTTP helpers.
 */
import { request } from 'node:http';
import { type Socket, createConnection } from 'node:net';
import { buildConfig } from '../../src/config.js';
import { TickwireServer } from '../../src/server/server.js';
import { type ConnectOptions, type TestClient, connect, isRecord } from './clients.js';

export const FEED_TOKEN = 'feed-token-123';

export interface TestServer {
  readonly server: TickwireServer;
  readonly port: number;
  /** ws://127.0.0.1:PORT + path */
  wsUrl(path: string): string;
  /** http://127.0.0.1:PORT + path */
  httpUrl(path: string): string;
  /** A feed authenticated with the Bearer header; `query` is appended (e.g. 'ack=1'). */
  feed(query?: string): Promise<TestClient>;
  /**
   * A /stream client. With `symbols`, waits for its `subscribed` and
   * `snapshot` replies and returns them alongside.
   */
  stream(query?: string, opts?: ConnectOptions): Promise<TestClient>;
  /** Subscribes (MessagePack or JSON as the connection uses) and awaits subscribed + snapshot. */
  subscribe(
    client: TestClient,
    symbols: string[],
  ): Promise<{ subscribed: unknown; snapshot: unknown }>;
  stats(): Promise<Record<string, unknown> & StatsShape>;
  stop(): Promise<void>;
}

export interface StatsShape {
  uptime_s: number;
  epoch: string;
  ticks: { received: number; published: number; rejected: number };
  frames: { received: number; bad: number };
  connections: { feeds: number; subscribers: number };
  slow_consumers_closed: number;
  slow_consumers: {
    conflating_now: number;
    conflated: number;
    dropped: number;
    closed: number;
    connections: {
      id: number;
      ip: string;
      queued_bytes: number;
      dropped: number;
      since_s: number;
    }[];
  };
  symbols: number;
  latency_us: {
    p50: number;
    p95: number;
    p99: number;
    p999: number;
    max: number;
    mean: number;
    samples: number;
  };
  uws: { native: boolean };
}

/** Starts a server; `options` are buildConfig keys (host/port/feedToken have test defaults). */
export async function startServer(options: Record<string, unknown> = {}): Promise<TestServer> {
  const server = new TickwireServer(
    buildConfig({
      host: '127.0.0.1',
      port: 0,
      feedToken: FEED_TOKEN,
      streamToken: undefined,
      ...options,
    }),
  );
  const port = await server.start();
  const opened: TestClient[] = [];
  const track = (c: TestClient): TestClient => {
    opened.push(c);
    return c;
  };
  const wsUrl = (path: string): string => `ws://127.0.0.1:${port}${path}`;
  const httpUrl = (path: string): string => `http://127.0.0.1:${port}${path}`;
  const ts: TestServer = {
    server,
    port,
    wsUrl,
    httpUrl,
    async feed(query = '') {
      return track(
        await connect(wsUrl(`/feed${query === '' ? '' : `?${query}`}`), {
          headers: { authorization: `Bearer ${FEED_TOKEN}` },
        }),
      );
    },
    async stream(query = '', opts = {}) {
      return track(await connect(wsUrl(`/stream${query === '' ? '' : `?${query}`}`), opts));
    },
    async subscribe(client, symbols) {
      const msg = { op: 'subscribe', symbols };
      if (client.ws.url.includes('format=json')) client.sendText(msg);
      else client.sendPack(msg);
      const subscribed = await client.nextOp('subscribed');
      const snapshot = await client.nextData();
      if (!isRecord(snapshot) || snapshot.op !== 'snapshot') {
        throw new Error(`expected a snapshot after subscribed, got ${JSON.stringify(snapshot)}`);
      }
      return { subscribed, snapshot };
    },
    async stats() {
      const res = await httpGet(httpUrl('/stats'));
      if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
      return JSON.parse(res.body) as Record<string, unknown> & StatsShape;
    },
    async stop() {
      await Promise.all(
        opened.map(async (c) => {
          if (c.isOpen) await c.close();
        }),
      );
      await server.stop();
    },
  };
  return ts;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A plain HTTP request on a fresh connection (no keep-alive). */
export function httpGet(url: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The status of GET /readyz on `node` (200 ready, 503 not). */
export async function readyz(node: TestServer): Promise<number> {
  return (await httpGet(node.httpUrl('/readyz'))).status;
}

/**
 * One kept-alive HTTP/1.1 connection, for requests that must reach the
 * server after its listen socket has closed (during shutdown). Responses
 * must carry a Content-Length.
 */
export class KeepAliveHttp {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiting: (() => void) | undefined;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#waiting?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<KeepAliveHttp> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () =>
        resolve(new KeepAliveHttp(socket)),
      );
      socket.once('error', reject);
    });
  }

  async get(path: string, timeoutMs = 5000): Promise<HttpResult> {
    this.#socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.#parse();
      if (parsed !== undefined) return parsed;
      if (this.#closed) throw new Error(`GET ${path}: connection closed before a full response`);
      if (Date.now() > deadline) throw new Error(`GET ${path}: no response within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiting = () => {
          clearTimeout(t);
          r();
        };
      });
      this.#waiting = undefined;
    }
  }

  #parse(): HttpResult | undefined {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.#buffer.length < end + 4 + length) return undefined;
    const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    return { status, headers, body };
  }

  close(): void {
    this.#socket.destroy();
  }
}
