/**
 * The plain health listener (`--health-port`): /healthz and /readyz served
 * by node:http on a port of their own, for probes the main port cannot
 * answer. uWS parses only `HTTP/1.1` request lines, so an HTTP/1.0 probe
 * (HAProxy's default `option httpchk`: `OPTIONS / HTTP/1.0`, `curl -0`, ab)
 * gets no answer on Node 20 and 505 on Node 22/24 there (http-routes.ts).
 *
 * What it answers (the same status and JSON body as the main port, probes.ts):
 *
 *   path       GET, HEAD, OPTIONS          other methods
 *   /healthz   /healthz (liveness)         405
 *   /readyz    /readyz (readiness)         405
 *   /          /readyz: HAProxy's default  405
 *   anything   404
 *
 * A query string is ignored. HEAD gets the headers (Content-Length included)
 * and no body; OPTIONS gets the GET answer plus `Allow`. Every response
 * carries `Connection: close` and the connection is closed after it (HTTP/1.0
 * and 1.1 alike: probes open one connection per check).
 *
 * Bounded, since the port may face a network: request heads of at most
 * HEALTH_MAX_HEADER_BYTES (431 past it), the head within HEALTH_TIMEOUT_MS
 * and the whole request within HEALTH_TIMEOUT_MS (408; an idle connection
 * is closed too), at most HEALTH_MAX_SOCKETS connections at once (more are
 * closed by node:http as they arrive, unanswered). Nothing else is served,
 * and no exception leaves a handler.
 */
import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
  createServer,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HEALTHZ, PROBE_CONTENT_TYPE, readyzAnswer } from './probes.js';

/** Largest request head (request line and headers) in bytes; node:http answers 431 past it. */
export const HEALTH_MAX_HEADER_BYTES = 8 * 1024;
/** Open connections at once; more are closed unanswered as they arrive. */
export const HEALTH_MAX_SOCKETS = 64;
/** Time for a whole request, from the connection; an idle connection is closed after it too. */
export const HEALTH_TIMEOUT_MS = 5000;

export interface HealthSource {
  /** Whether /readyz answers 200 (else 503). */
  ready(): boolean;
}

/** Overrides of the bounds, for tests. */
export interface HealthLimits {
  readonly maxSockets?: number;
  readonly timeoutMs?: number;
}

const ALLOW = 'GET, HEAD, OPTIONS';

export class HealthListener {
  readonly #server: Server;
  readonly #source: HealthSource;
  readonly #sockets = new Set<Socket>();
  #port: number | undefined;

  constructor(source: HealthSource, limits: HealthLimits = {}) {
    this.#source = source;
    const timeoutMs = limits.timeoutMs ?? HEALTH_TIMEOUT_MS;
    this.#server = createServer(
      {
        maxHeaderSize: HEALTH_MAX_HEADER_BYTES,
        requestTimeout: timeoutMs,
        // The head's own limit is the whole request's: nothing comes after it.
        headersTimeout: timeoutMs,
        // How often node:http looks for requests past those limits (default 30 s).
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4))),
        // A probe written by hand may leave Host out; there is only one site here.
        requireHostHeader: false,
      },
      (req, res) => this.#handle(req, res),
    );
    this.#server.maxConnections = limits.maxSockets ?? HEALTH_MAX_SOCKETS;
    // Backstop for a connection node:http no longer parses (after an answer
    // or an error), later than the request limits so that those answer 408.
    this.#server.setTimeout(2 * timeoutMs);
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
      refuse(err, socket),
    );
    // After listen: accept() errors (EMFILE, ENFILE) are emitted here, and an
    // 'error' event without a listener would end the process. The listener
    // stays; the next connection is tried again.
    this.#server.on('error', () => undefined);
  }

  /** The port listened on; undefined before listen() resolved and after close(). */
  get port(): number | undefined {
    return this.#port;
  }

  /** Listens on host:port (0 picks one); resolves with the port, rejects with node's error (its errno). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => reject(err);
      this.#server.once('error', failed);
      try {
        this.#server.listen({ host, port }, () => {
          this.#server.off('error', failed);
          this.#port = (this.#server.address() as AddressInfo).port;
          resolve(this.#port);
        });
      } catch (err) {
        this.#server.off('error', failed);
        // listen() throws synchronously on a bad port or host argument.
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Stops listening and closes every open connection; resolves once the listen socket is closed. */
  close(): Promise<void> {
    this.#port = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const answer =
        path === '/healthz'
          ? HEALTHZ
          : path === '/readyz' || path === '/'
            ? readyzAnswer(this.#source.ready())
            : undefined;
      const method = req.method ?? '';
      if (answer === undefined) {
        send(res, method, 404, 'text/plain; charset=utf-8', 'not found\n');
      } else if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') {
        if (method === 'OPTIONS') res.setHeader('Allow', ALLOW);
        send(res, method, answer.status, PROBE_CONTENT_TYPE, answer.body);
      } else {
        res.setHeader('Allow', ALLOW);
        send(res, method, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      }
    } catch {
      // Nothing above should throw; if it does, the probe sees a closed connection.
      res.destroy();
    }
  }
}

/** One whole response, then the connection closes; HEAD gets no body. */
function send(
  res: ServerResponse,
  method: string,
  status: number,
  type: string,
  body: string,
): void {
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  res.end(method === 'HEAD' ? undefined : body);
}

/**
 * A request node:http could not take (a head past the size limit, too slow,
 * malformed), or a connection error: one status line if nothing was written
 * on the connection yet, then the connection is closed.
 */
function refuse(err: NodeJS.ErrnoException, socket: Duplex): void {
  const code = err.code ?? '';
  const status =
    code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 0
          : 400;
  const written = (socket as Partial<Socket>).bytesWritten ?? 0;
  if (status !== 0 && socket.writable && written === 0) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  }
  socket.destroy();
}
