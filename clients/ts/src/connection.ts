/**
 * The WebSocket lifecycle shared by FeedClient and StreamClient: connect with
 * a token, reconnect with jittered exponential backoff, close cleanly. Works
 * with any WebSocket constructor shaped like the browser's (including `ws`).
 */
import { ERROR_CODES, type ErrorCode } from '../../../src/protocol/codes.js';
import { ClientErrorCode, TickwireClientError } from './errors.js';

/** Connection states, reported by `state` events. */
export const State = {
  Connecting: 'connecting',
  Open: 'open',
  Reconnecting: 'reconnecting',
  Closed: 'closed',
} as const;

export type State = (typeof State)[keyof typeof State];

/** A handler type that accepts the handlers of both `ws` and browser sockets. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the SDK uses (browser WebSocket and `ws` both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
}

/** Options passed as the third constructor argument (Node's `ws` only). */
export interface WebSocketNodeOptions {
  readonly headers?: Record<string, string>;
}

/** A WebSocket class: `ws`'s default export in Node, the global `WebSocket` in browsers. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: WebSocketNodeOptions,
) => WebSocketLike;

export interface ReconnectOptions {
  /** First retry delay (ms). Default 250. */
  readonly initialDelayMs?: number;
  /** Upper bound of the delay (ms). Default 10 000. */
  readonly maxDelayMs?: number;
  /** Consecutive failed attempts before giving up (state Closed). Default Infinity. */
  readonly maxRetries?: number;
}

export interface ConnectionOptions {
  /** Server address: `ws://HOST:PORT` (the path is filled in) or the full endpoint URL. */
  readonly url: string;
  /** The WebSocket class to use. */
  readonly WebSocket: WebSocketConstructor;
  /**
   * Where the token goes: `header` (Authorization: Bearer, needs a constructor
   * that takes options, like `ws`) or `query` (`?token=`). Default: `header`
   * when the constructor declares a third (options) parameter, else `query`.
   */
  readonly tokenIn?: 'header' | 'query';
  /** Reconnect settings, or `false` to never reconnect. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * Whether a failure of the very first connection attempt is retried too.
   * Default true; the CLI tools set false to fail fast.
   */
  readonly retryFirstConnect?: boolean;
}

const OPEN = 1;

export interface ConnectionHooks {
  /** Query parameters for the next attempt (besides the token). */
  query(): Record<string, string>;
  opened(ws: WebSocketLike): void;
  message(data: unknown): void;
  /** The socket is gone (any reason); `reconnecting` tells whether another attempt follows. */
  lost(reconnecting: boolean): void;
  state(state: State): void;
  error(err: TickwireClientError): void;
}

/** Delay before retry `attempt` (1-based): exponential, bounded, with equal jitter. */
export function backoffDelay(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function isErrorCode(s: string): s is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(s);
}

function errorText(event: unknown): string | undefined {
  if (typeof event === 'object' && event !== null) {
    const e = event as { message?: unknown; error?: { message?: unknown } };
    if (typeof e.message === 'string' && e.message !== '') return e.message;
    if (typeof e.error?.message === 'string') return e.error.message;
  }
  return undefined;
}

export class Connection {
  #state: State = State.Connecting;
  #ws: WebSocketLike | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #everOpened = false;
  #lastError: string | undefined;
  #closeWaiters: (() => void)[] = [];
  readonly #url: URL;
  readonly #token: string | undefined;
  readonly #tokenIn: 'header' | 'query';
  readonly #WS: WebSocketConstructor;
  readonly #reconnect: Required<ReconnectOptions> | false;
  readonly #retryFirst: boolean;
  readonly #hooks: ConnectionHooks;

  constructor(
    options: ConnectionOptions,
    path: '/feed' | '/stream',
    token: string | undefined,
    hooks: ConnectionHooks,
  ) {
    this.#url = new URL(options.url);
    if (this.#url.pathname === '/' || this.#url.pathname === '') this.#url.pathname = path;
    this.#token = token;
    this.#WS = options.WebSocket;
    this.#tokenIn = options.tokenIn ?? (options.WebSocket.length >= 3 ? 'header' : 'query');
    this.#reconnect =
      options.reconnect === false
        ? false
        : {
            initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
            maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
            maxRetries: options.reconnect?.maxRetries ?? Infinity,
          };
    this.#retryFirst = options.retryFirstConnect ?? true;
    this.#hooks = hooks;
    // Start on the next turn so the caller can attach listeners first.
    this.#timer = setTimeout(() => this.#connect(), 0);
  }

  get state(): State {
    return this.#state;
  }

  /** The open socket, if any. */
  get socket(): WebSocketLike | undefined {
    return this.#ws !== undefined && this.#ws.readyState === OPEN ? this.#ws : undefined;
  }

  /** The URL of the next attempt (token included when sent in the query). */
  url(): string {
    const u = new URL(this.#url.href);
    for (const [k, v] of Object.entries(this.#hooks.query())) u.searchParams.set(k, v);
    if (this.#token !== undefined && this.#tokenIn === 'query') {
      u.searchParams.set('token', this.#token);
    }
    return u.href;
  }

  #setState(state: State): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#hooks.state(state);
  }

  #connect(): void {
    this.#timer = undefined;
    if (this.#state === State.Closed) return;
    let ws: WebSocketLike;
    try {
      ws =
        this.#token !== undefined && this.#tokenIn === 'header'
          ? new this.#WS(this.url(), undefined, {
              headers: { Authorization: `Bearer ${this.#token}` },
            })
          : new this.#WS(this.url());
    } catch (err) {
      this.#lastError = err instanceof Error ? err.message : String(err);
      this.#afterLoss(false);
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    let unauthorized = false;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#failures = 0;
      this.#everOpened = true;
      this.#setState(State.Open);
      this.#hooks.opened(ws);
    };
    ws.onmessage = (event) => {
      if (this.#ws === ws) this.#hooks.message(event.data);
    };
    ws.onerror = (event) => {
      const text = errorText(event);
      if (text !== undefined) this.#lastError = text;
      // `ws` reports a refused upgrade as "Unexpected server response: 401";
      // browsers do not expose the status (the close is a plain 1006).
      if (text !== undefined && /\b401\b/.test(text)) unauthorized = true;
    };
    ws.onclose = (event) => {
      const waiters = this.#closeWaiters.splice(0);
      for (const w of waiters) w();
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      const code = event.reason.split(':', 1)[0]?.trim() ?? '';
      if (isErrorCode(code)) {
        this.#hooks.error(
          new TickwireClientError(code, `connection closed by the server: ${event.reason}`, {
            closeCode: event.code,
          }),
        );
      } else if (event.reason !== '') {
        this.#lastError = `closed ${event.code} ${event.reason}`;
      }
      this.#afterLoss(unauthorized);
    };
  }

  #afterLoss(unauthorized: boolean): void {
    if (this.#state === State.Closed) {
      this.#hooks.lost(false);
      return;
    }
    if (unauthorized) {
      this.#giveUp(
        new TickwireClientError(
          'unauthorized',
          `the server refused the token (HTTP 401) for ${this.#url.href}`,
        ),
      );
      return;
    }
    this.#failures++;
    const r = this.#reconnect;
    const firstFailed = !this.#everOpened && !this.#retryFirst;
    if (r === false || firstFailed || this.#failures > r.maxRetries) {
      this.#giveUp(
        new TickwireClientError(
          ClientErrorCode.ConnectFailed,
          `could not connect to ${this.#url.href}${this.#lastError === undefined ? '' : `: ${this.#lastError}`}`,
        ),
      );
      return;
    }
    this.#hooks.lost(true);
    this.#setState(State.Reconnecting);
    this.#timer = setTimeout(
      () => this.#connect(),
      backoffDelay(this.#failures, r.initialDelayMs, r.maxDelayMs),
    );
  }

  #giveUp(err: TickwireClientError): void {
    this.#hooks.lost(false);
    this.#setState(State.Closed);
    this.#hooks.error(err);
  }

  /** Stops reconnecting and closes the socket; resolves once it is closed. */
  close(code = 1000, reason = ''): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const ws = this.#ws;
    const wasClosed = this.#state === State.Closed;
    this.#setState(State.Closed);
    if (ws === undefined) {
      if (!wasClosed) this.#hooks.lost(false);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#closeWaiters.push(resolve);
      ws.close(code, reason);
    });
  }
}
