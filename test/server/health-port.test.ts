/**
 * The plain health listener (`--health-port`, node:http) answers the probes
 * the main port cannot: HTTP/1.0 (HAProxy's default check is
 * `OPTIONS / HTTP/1.0`, byte for byte as HAProxy 2.6 sends it), HTTP/1.1,
 * GET, HEAD and OPTIONS on /healthz, /readyz and / (= /readyz), with the
 * main port's status and JSON body, and always closes the connection after
 * one answer. Nothing else is served: 404 for other paths, 405 for other
 * methods. Raw node:net exchanges, so nothing is hidden by a client library.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rawExchange } from '../helpers/raw-http.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

let ts: TestServer;
let port: number;

beforeAll(async () => {
  ts = await startServer({ healthPort: 0 });
  port = ts.server.healthPort!;
});

afterAll(async () => {
  await ts.stop();
});

test('listens on a port of its own', () => {
  expect(port).toBeGreaterThan(0);
  expect(port).not.toBe(ts.port);
});

describe('answered like the main port, then closed', () => {
  test.each([
    ['HTTP/1.0 GET /healthz', 'GET /healthz HTTP/1.0\r\n\r\n', '/healthz'],
    ['HTTP/1.0 GET /readyz', 'GET /readyz HTTP/1.0\r\n\r\n', '/readyz'],
    [
      'HTTP/1.0 keep-alive asked',
      'GET /readyz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      '/readyz',
    ],
    ['HTTP/1.1 GET /healthz', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '/healthz'],
    ['HTTP/1.1 without Host', 'GET /readyz HTTP/1.1\r\n\r\n', '/readyz'],
    ['a query string', 'GET /readyz?full=1 HTTP/1.0\r\n\r\n', '/readyz'],
    ['HAProxy default check (OPTIONS / HTTP/1.0)', 'OPTIONS / HTTP/1.0\r\n\r\n', '/readyz'],
    ['HAProxy option httpchk /healthz', 'OPTIONS /healthz HTTP/1.0\r\n\r\n', '/healthz'],
    ['GET /', 'GET / HTTP/1.0\r\n\r\n', '/readyz'],
  ])('%s', async (_, request, same) => {
    const main = await httpGet(ts.httpUrl(same));
    const x = await rawExchange(port, request);
    expect(x.responses).toHaveLength(1);
    const r = x.responses[0]!;
    expect(r.status).toBe(main.status);
    expect(r.status).toBe(200);
    expect(r.body).toBe(main.body);
    expect(r.headers['content-type']).toBe(main.headers['content-type']);
    expect(r.headers.connection).toBe('close');
    expect(x.rest).toBe('');
    expect(x.closedByServer).toBe(true);
  });

  test('OPTIONS says which methods are served', async () => {
    const x = await rawExchange(port, 'OPTIONS / HTTP/1.0\r\n\r\n');
    expect(x.responses[0]!.headers.allow).toBe('GET, HEAD, OPTIONS');
  });
});

describe('HEAD', () => {
  test.each([
    ['HTTP/1.0', 'HEAD /healthz HTTP/1.0\r\n\r\n'],
    ['HTTP/1.1 (curl -I)', 'HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n'],
  ])('%s: 200, the GET Content-Length, no body, closed', async (_, request) => {
    const x = await rawExchange(port, request, { heads: 1 });
    expect(x.responses).toHaveLength(1);
    expect(x.responses[0]!.status).toBe(200);
    expect(x.responses[0]!.headers['content-length']).toBe(
      String(Buffer.byteLength('{"status":"ok"}')),
    );
    expect(x.rest).toBe('');
    expect(x.closedByServer).toBe(true);
  });
});

describe('nothing else', () => {
  test.each([
    ['/stats', 'GET /stats HTTP/1.0\r\n\r\n'],
    ['/metrics', 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['/feed', 'GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['/healthz/', 'GET /healthz/ HTTP/1.0\r\n\r\n'],
    ['OPTIONS *', 'OPTIONS * HTTP/1.0\r\n\r\n'],
  ])('%s: 404, closed', async (_, request) => {
    const x = await rawExchange(port, request);
    expect(x.responses.map((r) => r.status)).toEqual([404]);
    expect(x.closedByServer).toBe(true);
  });

  test.each(['POST', 'PUT', 'DELETE'])('%s /readyz: 405 with Allow, closed', async (method) => {
    const x = await rawExchange(port, `${method} /readyz HTTP/1.0\r\nContent-Length: 0\r\n\r\n`);
    expect(x.responses.map((r) => r.status)).toEqual([405]);
    expect(x.responses[0]!.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(x.closedByServer).toBe(true);
  });

  test('a second request on the connection is not answered', async () => {
    const x = await rawExchange(
      port,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(x.responses.map((r) => r.status)).toEqual([200]);
    expect(x.closedByServer).toBe(true);
  });
});
