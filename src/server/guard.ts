/**
 * The last-resort guard at every uWS handler entry. An exception escaping a
 * uWS handler ends the process (uWS reports it as uncaught), so one bad
 * message from one client would take every connection down. Every handler
 * of the WebSocket routes (upgrade, open, message, drain, ping, pong,
 * subscription, close) and every HTTP route handler runs inside one
 * try/catch here. What it catches is a bug (a client's bad input is answered
 * by the route itself, with a code), so:
 *
 * - the connection it happened on is closed with 1011 and a reason starting
 *   with `internal_error` (an HTTP request gets 500, if it can still be
 *   answered); everyone else keeps being served;
 * - it is counted per route and handler (`tickwire_handler_errors_total`);
 * - it is logged once per cause (the error's type and where it was thrown),
 *   with its stack, so that a flood of the same failure cannot flood the
 *   log; at most MAX_LOGGED_CAUSES distinct causes are logged at all.
 *
 * Cost: one try per handler call, i.e. per frame, never per tick (a feed
 * frame's ticks are handled inside the one guarded call); V8 optimises a
 * function containing try/catch like any other, and the wrapper passes its
 * arguments on without allocating.
 */
import type {
  HttpRequest,
  HttpResponse,
  RecognizedString,
  TemplatedApp,
  WebSocket,
  WebSocketBehavior,
  us_socket_context_t,
} from 'uWebSockets.js';
import { CloseCode, ErrorCode } from '../protocol/codes.js';

/** Distinct causes logged in a process's life; later new ones are only counted. */
const MAX_LOGGED_CAUSES = 64;
/** Longest error message text written to the log (it may quote a client's input). */
const MAX_LOGGED_MESSAGE = 300;
const CLOSE_REASON = `${ErrorCode.InternalError}: the server failed handling this connection`;
const HTTP_BODY = `${ErrorCode.InternalError}: the server failed handling this request`;
/** TemplatedApp methods that register an HTTP route handler. */
const HTTP_METHODS: ReadonlySet<string> = new Set([
  'get',
  'post',
  'options',
  'del',
  'patch',
  'put',
  'head',
  'connect',
  'trace',
  'any',
]);

/** Exceptions caught at one handler of one route. */
export interface HandlerErrorCount {
  /** '/stream', '/feed', '/stats/stream', or an HTTP route as 'GET /stats'. */
  readonly route: string;
  /** 'message', 'open', 'upgrade', …; 'request' for HTTP routes. */
  readonly handler: string;
  readonly count: number;
}

/** One guarded handler: its counter. */
interface Site {
  readonly route: string;
  readonly handler: string;
  count: number;
}

type Handler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;

export class HandlerGuard {
  readonly #sites: Site[] = [];
  readonly #logged = new Set<string>();
  readonly #log: (line: string) => void;
  #unlogged = false;

  /** `log` receives whole lines (stderr by default). */
  constructor(log: (line: string) => void = (line) => process.stderr.write(line)) {
    this.#log = log;
  }

  /** Caught exceptions per route and handler; every guarded handler is listed, from 0. */
  counts(): readonly HandlerErrorCount[] {
    return this.#sites.map((s) => ({ route: s.route, handler: s.handler, count: s.count }));
  }

  /** The WebSocket behavior `behavior` with every handler guarded. */
  behavior<T>(route: string, behavior: WebSocketBehavior<T>): WebSocketBehavior<T> {
    const out: WebSocketBehavior<T> = { ...behavior };
    const { upgrade, open, message, drain, close, ping, pong, subscription } = behavior;
    if (upgrade !== undefined) {
      const site = this.#site(route, 'upgrade');
      out.upgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
        try {
          const result = upgrade(res, req, context);
          if (result !== undefined)
            result.catch((err: unknown) => this.#requestFailed(site, res, err));
        } catch (err) {
          this.#requestFailed(site, res, err);
        }
      };
    }
    if (open !== undefined) {
      const site = this.#site(route, 'open');
      out.open = (ws: WebSocket<T>) => {
        try {
          const result = open(ws);
          if (result !== undefined)
            result.catch((err: unknown) => this.#socketFailed(site, ws, err));
        } catch (err) {
          this.#socketFailed(site, ws, err);
        }
      };
    }
    if (message !== undefined) {
      // The per-frame path: no rest parameters, no closure per call.
      const site = this.#site(route, 'message');
      out.message = (ws: WebSocket<T>, data: ArrayBuffer, isBinary: boolean) => {
        try {
          const result = message(ws, data, isBinary);
          // A handler returning a promise: its rejection is caught too.
          if (result !== undefined)
            result.catch((err: unknown) => this.#socketFailed(site, ws, err));
        } catch (err) {
          this.#socketFailed(site, ws, err);
        }
      };
    }
    if (drain !== undefined) out.drain = this.#socketHandler(route, 'drain', drain);
    if (ping !== undefined) out.ping = this.#socketHandler(route, 'ping', ping);
    if (pong !== undefined) out.pong = this.#socketHandler(route, 'pong', pong);
    if (subscription !== undefined) {
      out.subscription = this.#socketHandler(route, 'subscription', subscription);
    }
    if (close !== undefined) {
      // The socket is gone: nothing to close, only counted and logged.
      const site = this.#site(route, 'close');
      out.close = (ws: WebSocket<T>, code: number, reason: ArrayBuffer) => {
        try {
          close(ws, code, reason);
        } catch (err) {
          this.#record(site, err);
        }
      };
    }
    return out;
  }

  /**
   * `app` with every HTTP route handler registered through it guarded: an
   * exception answers 500 (when the request can still be answered).
   */
  http(app: TemplatedApp): TemplatedApp {
    const register =
      (method: string, fn: (pattern: RecognizedString, handler: Handler) => TemplatedApp) =>
      (pattern: RecognizedString, handler: Handler): TemplatedApp => {
        const name = typeof pattern === 'string' ? pattern : '(binary pattern)';
        const site = this.#site(`${method.toUpperCase()} ${name}`, 'request');
        fn.call(app, pattern, (res: HttpResponse, req: HttpRequest) => {
          // Read now: req is valid only during this call, and a 500 to HEAD
          // must carry no body (the next response on the connection would
          // start inside it).
          const head = req.getMethod() === 'head';
          try {
            const result = handler(res, req);
            if (result !== undefined)
              result.catch((err: unknown) => this.#requestFailed(site, res, err, head));
          } catch (err) {
            this.#requestFailed(site, res, err, head);
          }
        });
        return guarded;
      };
    const guarded: TemplatedApp = new Proxy(app, {
      get(target, prop): unknown {
        const value: unknown = Reflect.get(target, prop);
        if (typeof prop === 'string' && HTTP_METHODS.has(prop) && typeof value === 'function') {
          return register(prop, value as (p: RecognizedString, h: Handler) => TemplatedApp);
        }
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    return guarded;
  }

  #site(route: string, handler: string): Site {
    let site = this.#sites.find((s) => s.route === route && s.handler === handler);
    if (site === undefined) {
      site = { route, handler, count: 0 };
      this.#sites.push(site);
    }
    return site;
  }

  /** A guarded handler taking the socket and up to three more arguments (rare events). */
  #socketHandler<T, A extends unknown[]>(
    route: string,
    handler: string,
    fn: (ws: WebSocket<T>, ...args: A) => void,
  ): (ws: WebSocket<T>, ...args: A) => void {
    const site = this.#site(route, handler);
    return (ws: WebSocket<T>, ...args: A) => {
      try {
        fn(ws, ...args);
      } catch (err) {
        this.#socketFailed(site, ws, err);
      }
    };
  }

  #socketFailed<T>(site: Site, ws: WebSocket<T>, err: unknown): void {
    this.#record(site, err);
    try {
      ws.end(CloseCode.InternalError, CLOSE_REASON);
    } catch {
      // Already closed (the handler may have closed it before throwing).
    }
  }

  #requestFailed(site: Site, res: HttpResponse, err: unknown, head = false): void {
    this.#record(site, err);
    try {
      res.cork(() => {
        res.writeStatus('500 Internal Server Error');
        // Content-Length by hand for HEAD: endWithoutBody(length) aborts the
        // process in uWS 20.30 (see http-routes.ts, sendBody).
        if (head)
          res.writeHeader('Content-Length', String(HTTP_BODY.length)).endWithoutBody(); // ASCII
        else res.end(HTTP_BODY, true);
      });
    } catch {
      // Already answered, upgraded or aborted.
    }
  }

  #record(site: Site, err: unknown): void {
    site.count++;
    const cause = `${site.route} ${site.handler} ${causeOf(err)}`;
    if (this.#logged.has(cause)) return;
    if (this.#logged.size >= MAX_LOGGED_CAUSES) {
      if (!this.#unlogged) {
        this.#unlogged = true;
        this.#write(
          `tickwire: more than ${MAX_LOGGED_CAUSES} distinct handler errors; further ones are only counted (tickwire_handler_errors_total)\n`,
        );
      }
      return;
    }
    this.#logged.add(cause);
    const what =
      site.handler === 'request' || site.handler === 'upgrade'
        ? 'answered 500'
        : site.handler === 'close'
          ? 'the connection was closing'
          : 'connection closed with 1011';
    this.#write(
      `tickwire: handler error in ${site.route} ${site.handler} (${what}; counted in ` +
        `tickwire_handler_errors_total; logged once per cause): ${describe(err)}\n`,
    );
  }

  #write(line: string): void {
    try {
      this.#log(line);
    } catch {
      // A log that cannot be written must not make things worse.
    }
  }
}

/** The error's type and the first frame of its stack: where it was thrown. */
function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const stack = err.stack ?? '';
  const at = stack.indexOf('\n    at ');
  const end = at < 0 ? -1 : stack.indexOf('\n', at + 1);
  const frame = at < 0 ? '' : stack.slice(at + 8, end < 0 ? undefined : end);
  return `${err.name} at ${frame}`;
}

/** The error for the log: its message cut short, and its stack frames. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return `a thrown ${typeof err}`;
  const message =
    err.message.length > MAX_LOGGED_MESSAGE
      ? `${err.message.slice(0, MAX_LOGGED_MESSAGE)}…`
      : err.message;
  const stack = err.stack ?? '';
  const frames = stack.indexOf('\n    at ');
  return `${err.name}: ${message}${frames < 0 ? '' : stack.slice(frames)}`;
}
