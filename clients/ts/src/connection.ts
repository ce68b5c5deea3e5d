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
  /**
   * Retries after consecutive failed attempts before giving up (state Closed,
   * `connect_failed`). Default Infinity.
   */
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
  /**
   * Longest time (ms) without an open connection, from the start or from
   * losing one, before the client gives up (state Closed, `connect_failed`).
   * Default Infinity: retry for as long as `reconnect` allows.
   */
  readonly connectTimeoutMs?: number;
}

/** One connection attempt that did not open (the `connectFailed` event). */
export interface ConnectFailed {
  /** Consecutive failed attempts so far, 1-based (reset by every open connection). */
  readonly attempt: number;
  /** Why: `connect_failed` (with the cause in `message`) or `unauthorized` (HTTP 401). */
  readonly error: TickwireClientError;
  /** Delay before the next attempt (ms), or undefined when the client gives up. */
  readonly retryInMs: number | undefined;
}

/** How a connection ended (ConnectionHooks.lost). */
export interface Loss {
  /** Another attempt follows. */
  readonly reconnecting: boolean;
  /** The server closed with a reason that starts with an error code: that error. */
  readonly closeError: TickwireClientError | undefined;
  /** The client gave up (`unauthorized`, `connect_failed`); undefined after close(). */
  readonly finalError: TickwireClientError | undefined;
}

const OPEN = 1;

export interface ConnectionHooks {
  /** Query parameters for the next attempt (besides the token). */
  query(): Record<string, string>;
  opened(ws: WebSocketLike): void;
  message(data: unknown): void;
  /** The socket is gone, or the client stopped (any reason). */
  lost(loss: Loss): void;
  state(state: State): void;
  error(err: TickwireClientError): void;
  /** An attempt failed before the connection opened. */
  connectFailed(info: ConnectFailed): void;
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
  /** Losses since the last open connection (a dropped connection included): the backoff step. */
  #failures = 0;
  /** Attempts since the last open connection that never opened (ConnectFailed.attempt). */
  #failedAttempts = 0;
  #everOpened = false;
  #lastError: string | undefined;
  #closeWaiters: (() => void)[] = [];
  /** Gives up at connectTimeoutMs without an open connection. */
  #deadline: ReturnType<typeof setTimeout> | undefined;
  readonly #connectTimeoutMs: number;
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
    this.#connectTimeoutMs = options.connectTimeoutMs ?? Infinity;
    this.#hooks = hooks;
    // Start on the next turn so the caller can attach listeners first.
    this.#timer = setTimeout(() => this.#connect(), 0);
    this.#armDeadline();
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
      this.#afterLoss(false, false, undefined);
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    let unauthorized = false;
    let opened = false;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      this.#failures = 0;
      this.#failedAttempts = 0;
      this.#everOpened = true;
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
      this.#setState(State.Open);
      this.#hooks.opened(ws);
    };
    ws.onmessage = (event) => {
      if (this.#ws === ws) this.#hooks.message(event.data);
    };
    ws.onerror = (event) => {
      if (this.#ws !== ws) return;
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
      let closeError: TickwireClientError | undefined;
      if (isErrorCode(code)) {
        closeError = new TickwireClientError(
          code,
          `connection closed by the server: ${event.reason}`,
          { closeCode: event.code },
        );
        this.#hooks.error(closeError);
      } else if (event.reason !== '') {
        this.#lastError = `closed ${event.code} ${event.reason}`;
      }
      this.#afterLoss(opened, unauthorized, closeError);
    };
  }

  /** A socket is gone (or could not be made): retry, or give up. */
  #afterLoss(
    opened: boolean,
    unauthorized: boolean,
    closeError: TickwireClientError | undefined,
  ): void {
    if (this.#state === State.Closed) {
      this.#hooks.lost({ reconnecting: false, closeError, finalError: undefined });
      return;
    }
    if (unauthorized) {
      const err = new TickwireClientError(
        'unauthorized',
        `the server refused the token (HTTP 401) for ${this.#url.href}`,
      );
      this.#hooks.connectFailed({
        attempt: ++this.#failedAttempts,
        error: err,
        retryInMs: undefined,
      });
      this.#giveUp(err, closeError);
      return;
    }
    this.#failures++;
    if (opened) this.#armDeadline();
    const r = this.#reconnect;
    const firstFailed = !this.#everOpened && !this.#retryFirst;
    const giveUp = r === false || firstFailed || this.#failures > r.maxRetries;
    const delay = r === false ? 0 : backoffDelay(this.#failures, r.initialDelayMs, r.maxDelayMs);
    const failure = new TickwireClientError(
      ClientErrorCode.ConnectFailed,
      `could not connect to ${this.#url.href}${this.#lastError === undefined ? '' : `: ${this.#lastError}`}`,
    );
    if (!opened) {
      this.#hooks.connectFailed({
        attempt: ++this.#failedAttempts,
        error: failure,
        retryInMs: giveUp ? undefined : delay,
      });
    }
    if (giveUp) {
      this.#giveUp(failure, closeError);
      return;
    }
    this.#hooks.lost({ reconnecting: true, closeError, finalError: undefined });
    this.#setState(State.Reconnecting);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  /** Starts the connectTimeoutMs clock (at the start, and when an open connection is lost). */
  #armDeadline(): void {
    if (this.#connectTimeoutMs === Infinity) return;
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#timedOut(), this.#connectTimeoutMs);
  }

  #timedOut(): void {
    this.#deadline = undefined;
    if (this.#state === State.Closed || this.#state === State.Open) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Abandon an attempt still in progress: its events are ignored from now.
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close();
    this.#giveUp(
      new TickwireClientError(
        ClientErrorCode.ConnectFailed,
        `no connection to ${this.#url.href} within ${this.#connectTimeoutMs} ms${this.#lastError === undefined ? '' : `: ${this.#lastError}`}`,
      ),
      undefined,
    );
  }

  #giveUp(err: TickwireClientError, closeError: TickwireClientError | undefined): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#hooks.lost({ reconnecting: false, closeError, finalError: err });
    this.#setState(State.Closed);
    this.#hooks.error(err);
  }

  /** Stops reconnecting and closes the socket; resolves once it is closed. */
  close(code = 1000, reason = ''): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    const ws = this.#ws;
    const wasClosed = this.#state === State.Closed;
    this.#setState(State.Closed);
    if (ws === undefined) {
      if (!wasClosed) {
        this.#hooks.lost({ reconnecting: false, closeError: undefined, finalError: undefined });
      }
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#closeWaiters.push(resolve);
      ws.close(code, reason);
    });
  }
}
