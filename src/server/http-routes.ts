/**
 * Plain HTTP routes: /stats (JSON), /metrics (Prometheus), /healthz,
 * /readyz, / (placeholder until the dashboard), and 404 for the rest.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Registry } from 'prom-client';

export interface HttpSource {
  stats(): object;
  ready(): boolean;
  readonly metrics: Registry;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function registerHttpRoutes(app: TemplatedApp, source: HttpSource): void {
  app.get('/stats', (res: HttpResponse) => {
    res
      .writeHeader('Content-Type', JSON_TYPE)
      .writeHeader('Cache-Control', 'no-store')
      .end(JSON.stringify(source.stats()));
  });

  app.get('/metrics', (res: HttpResponse) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    source.metrics.metrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeHeader('Content-Type', source.metrics.contentType).end(text);
        });
      },
      (err: unknown) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('500 Internal Server Error').end(`metrics failed: ${String(err)}`);
        });
      },
    );
  });

  app.get('/healthz', (res: HttpResponse) => {
    res.writeHeader('Content-Type', JSON_TYPE).end('{"status":"ok"}');
  });

  app.get('/readyz', (res: HttpResponse) => {
    if (source.ready()) {
      res.writeHeader('Content-Type', JSON_TYPE).end('{"status":"ready"}');
    } else {
      res
        .writeStatus('503 Service Unavailable')
        .writeHeader('Content-Type', JSON_TYPE)
        .end('{"status":"not ready"}');
    }
  });

  app.get('/', (res: HttpResponse) => {
    res
      .writeHeader('Content-Type', 'text/html; charset=utf-8')
      .end(
        '<!doctype html><title>tickwire</title><p>tickwire is running: see <a href="/stats">/stats</a>; the live dashboard is not built yet.</p>\n',
      );
  });

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
