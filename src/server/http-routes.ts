/**
 * Plain HTTP routes: /stats (JSON), /metrics (Prometheus), /healthz,
 * /readyz, the dashboard (/ and its hashed assets), the admin load-test
 * routes, and 404 for the rest. Every one checks the request's framing
 * headers first (http-framing.ts). Every GET route answers HEAD too (uWS
 * routes HEAD to `any`, not to `get`): the same status and headers,
 * Content-Length included, and no body.
 *
 * HTTP/1.0 requests (and HTTP/1.1 ones without Host) never reach these
 * handlers: uWS's parser takes only `HTTP/1.1` request lines. uWS 20.30
 * (Node 20) keeps such a request buffered as if incomplete and never
 * answers (the connection closes on its 10 s HTTP idle timeout, or once
 * 4 KiB of unparsed bytes pile up); v20.69 (Node 22/24) answers 505 (400
 * without Host) and closes. See docs/deploy.md, "Health checks"; the plain
 * health listener (--health-port, health-listener.ts) answers such probes.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import { TokenCheck } from './auth.js';
import { framingAccepted } from './http-framing.js';
import { type LoadTester, parseLoadTestParams } from './load-test.js';
import { HEALTHZ, PROBE_CONTENT_TYPE, type ProbeAnswer, readyzAnswer } from './probes.js';
import { type StaticAsset, acceptsGzip } from './static.js';

export interface HttpSource {
  stats(): object;
  ready(): boolean;
  readonly metrics: Registry;
  /** The dashboard files (empty when web assets were not built). */
  readonly assets: readonly StaticAsset[];
  /** Undefined: no admin token configured, admin routes answer 503. */
  readonly adminToken: string | undefined;
  readonly loadTester: LoadTester;
}

/** Largest request body accepted on the admin routes. */
const MAX_ADMIN_BODY = 4096;

const JSON_TYPE = 'application/json; charset=utf-8';

type Handler = (res: HttpResponse, req: HttpRequest) => void;
/** A GET route's handler; `head` is true for HEAD: finish with `sendBody`. */
type ReadHandler = (res: HttpResponse, req: HttpRequest, head: boolean) => void;

/** Route registration whose handlers run only for requests with sound framing headers. */
interface FramedRoutes {
  /** GET and HEAD. */
  get(pattern: string, handler: ReadHandler): void;
  post(pattern: string, handler: Handler): void;
  any(pattern: string, handler: Handler): void;
}

/** Registers on `app`; a request whose framing headers conflict gets 400 and is closed instead. */
function framedRoutes(app: TemplatedApp): FramedRoutes {
  const framed =
    (handler: Handler): Handler =>
    (res, req) => {
      if (framingAccepted(res, req)) handler(res, req);
    };
  return {
    get: (pattern, handler) => {
      app.get(
        pattern,
        framed((res, req) => handler(res, req, false)),
      );
      app.head(
        pattern,
        framed((res, req) => handler(res, req, true)),
      );
    },
    post: (pattern, handler) => void app.post(pattern, framed(handler)),
    any: (pattern, handler) => void app.any(pattern, framed(handler)),
  };
}

/**
 * Ends a response with `body`, or, for HEAD, with its Content-Length and no
 * body. (uWS's `end` would send the body to HEAD too, and
 * `endWithoutBody(length)` aborts the process in uWS 20.30: the header is
 * written by hand.)
 */
function sendBody(res: HttpResponse, body: string | Buffer, head: boolean): void {
  if (head) res.writeHeader('Content-Length', String(Buffer.byteLength(body))).endWithoutBody();
  else res.end(body);
}

export function registerHttpRoutes(uwsApp: TemplatedApp, source: HttpSource): void {
  const app = framedRoutes(uwsApp);
  app.get('/stats', (res, _req, head) => {
    res.writeHeader('Content-Type', JSON_TYPE).writeHeader('Cache-Control', 'no-store');
    sendBody(res, JSON.stringify(source.stats()), head);
  });

  app.get('/metrics', (res, _req, head) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    source.metrics.metrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeHeader('Content-Type', source.metrics.contentType);
          sendBody(res, text, head);
        });
      },
      (err: unknown) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('500 Internal Server Error');
          sendBody(res, `metrics failed: ${String(err)}`, head);
        });
      },
    );
  });

  // The same answers as on the plain health port (probes.ts, health-listener.ts).
  const probe = (res: HttpResponse, answer: ProbeAnswer, head: boolean): void => {
    res.writeStatus(answer.statusLine).writeHeader('Content-Type', PROBE_CONTENT_TYPE);
    sendBody(res, answer.body, head);
  };
  app.get('/healthz', (res, _req, head) => probe(res, HEALTHZ, head));
  app.get('/readyz', (res, _req, head) => probe(res, readyzAnswer(source.ready()), head));

  registerAdminRoutes(app, source);

  for (const asset of source.assets) {
    app.get(asset.path, (res, req, head) => {
      const gzip = asset.gzip !== undefined && acceptsGzip(req.getHeader('accept-encoding'));
      res
        .writeHeader('Content-Type', asset.type)
        .writeHeader('Cache-Control', asset.cacheControl)
        .writeHeader('Vary', 'Accept-Encoding');
      if (gzip) res.writeHeader('Content-Encoding', 'gzip');
      sendBody(res, gzip ? asset.gzip : asset.body, head);
    });
  }
  if (!source.assets.some((a) => a.path === '/')) {
    app.get('/', (res, _req, head) => {
      res
        .writeHeader('Content-Type', 'text/html; charset=utf-8')
        .writeHeader('Cache-Control', 'no-cache');
      sendBody(
        res,
        '<!doctype html><title>tickwire</title><p>tickwire is running: see <a href="/stats">/stats</a>. The dashboard assets were not found: run <code>npm run build</code>.</p>\n',
        head,
      );
    });
  }

  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    const method = req.getMethod().toUpperCase();
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain; charset=utf-8');
    // A response to HEAD must not carry a body: clients would read it as the
    // start of the next response on the connection. (endWithoutBody with a
    // length argument aborts the process in this uWS build.)
    if (method === 'HEAD') res.endWithoutBody();
    else res.end(`not found: ${method} ${req.getUrl()}\n`);
  });
}

/** A JSON reply. (uWS needs the status written before any header.) */
function json(
  res: HttpResponse,
  status: string,
  body: unknown,
  bearer = false,
  head = false,
): void {
  res.writeStatus(status);
  if (bearer) res.writeHeader('WWW-Authenticate', 'Bearer');
  res.writeHeader('Content-Type', JSON_TYPE).writeHeader('Cache-Control', 'no-store');
  sendBody(res, JSON.stringify(body), head);
}

/**
 * POST /admin/loadtest (start; 202 with the run id) and GET /admin/loadtest
 * (latest status), both behind `Authorization: Bearer ADMIN_TOKEN`.
 */
function registerAdminRoutes(app: FramedRoutes, source: HttpSource): void {
  const tokens = source.adminToken === undefined ? undefined : new TokenCheck(source.adminToken);
  /** Answers 503/401 and returns false unless the request may proceed. */
  const authorized = (res: HttpResponse, req: HttpRequest, head = false): boolean => {
    if (tokens === undefined) {
      json(
        res,
        '503 Service Unavailable',
        {
          error: 'admin_disabled',
          message: 'start the server with --admin-token (or TICKWIRE_ADMIN_TOKEN) to enable it',
        },
        false,
        head,
      );
      return false;
    }
    const m = /^Bearer\s+(.+)$/i.exec(req.getHeader('authorization').trim());
    if (m === null || !tokens.matches(m[1]!.trim())) {
      json(
        res,
        '401 Unauthorized',
        {
          error: 'unauthorized',
          message: 'a valid admin token is required (Authorization: Bearer TOKEN)',
        },
        true,
        head,
      );
      return false;
    }
    return true;
  };

  app.get('/admin/loadtest', (res, req, head) => {
    if (!authorized(res, req, head)) return;
    const latest = source.loadTester.latest;
    json(res, '200 OK', latest ?? { state: 'idle' }, false, head);
  });

  app.post('/admin/loadtest', (res: HttpResponse, req: HttpRequest) => {
    if (!authorized(res, req)) return;
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk: ArrayBuffer, isLast: boolean) => {
      if (aborted) return;
      size += chunk.byteLength;
      if (size > MAX_ADMIN_BODY) {
        aborted = true;
        res.cork(() => json(res, '413 Payload Too Large', { error: 'payload_too_large' }));
        return;
      }
      // uWS reuses the chunk's memory after this call: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (!isLast) return;
      res.cork(() => {
        const text = Buffer.concat(chunks).toString('utf8').trim();
        let body: unknown;
        try {
          body = text === '' ? {} : (JSON.parse(text) as unknown);
        } catch {
          json(res, '400 Bad Request', { error: 'bad_request', message: 'body is not JSON' });
          return;
        }
        const params = parseLoadTestParams(body);
        if (typeof params === 'string') {
          json(res, '400 Bad Request', { error: 'bad_request', message: params });
          return;
        }
        const id = source.loadTester.start(params);
        if (id === undefined) {
          json(res, '409 Conflict', {
            error: 'busy',
            message: 'a load test is already running',
            id: source.loadTester.latest?.id,
          });
          return;
        }
        json(res, '202 Accepted', { id, state: 'running', params });
      });
    });
  });
}
