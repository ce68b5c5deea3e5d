/**
 * Requests whose framing headers conflict (RFC 9112 §6.3, §3.2) are refused
 * on every route, HTTP routes and WebSocket upgrades alike: HTTP 400 with a
 * body starting `bad_request`, `Connection: close`, and the connection
 * closed, so that nothing after the request is parsed as another request
 * (uWS reads the first Content-Length only and would answer the rest as a
 * second, smuggled request). Well-formed requests are not affected.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RawExchange, rawExchange } from '../helpers/raw-http.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

const ADMIN_TOKEN = 'admin-token-framing';
/** A request the server would answer 200 if it parsed it: the smuggled one. */
const SMUGGLED = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await ts.stop();
});

function expectRefused(x: RawExchange): void {
  expect(x.responses).toHaveLength(1);
  const [res] = x.responses;
  expect(res!.status).toBe(400);
  expect(res!.headers.connection).toBe('close');
  expect(res!.body.startsWith('bad_request')).toBe(true);
  expect(x.closedByServer).toBe(true);
  expect(x.rest).toBe('');
}

test('POST /admin/loadtest with two different Content-Length: 400, closed, the rest never answered', async () => {
  const x = await rawExchange(
    ts.port,
    'POST /admin/loadtest HTTP/1.1\r\nHost: x\r\n' +
      `Authorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\n` +
      `Content-Length: 2\r\nContent-Length: ${2 + SMUGGLED.length}\r\n\r\n{}${SMUGGLED}`,
  );
  expectRefused(x);
  expect(ts.server.loadTester.latest).toBeUndefined();
});

describe('conflicting framing headers on an HTTP route', () => {
  const cases: [string, string][] = [
    ['two different Content-Length', 'Content-Length: 0\r\nContent-Length: 5\r\n'],
    [
      'Content-Length and an empty Transfer-Encoding',
      'Transfer-Encoding:\r\nContent-Length: 0\r\n',
    ],
    ['Transfer-Encoding other than chunked', 'Transfer-Encoding: gzip\r\n'],
    ['Transfer-Encoding twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'],
    ['a Content-Length that is not a number', 'Content-Length: 0x10\r\n'],
  ];
  test.each(cases)('%s: 400, closed, the pipelined request never answered', async (_, headers) => {
    const body = headers.includes('Transfer-Encoding: chunked') ? '0\r\n\r\n' : '';
    const x = await rawExchange(
      ts.port,
      `GET /stats HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}${SMUGGLED}`,
    );
    expectRefused(x);
  });

  test('two Host headers: 400, closed, the pipelined request never answered', async () => {
    const x = await rawExchange(
      ts.port,
      `GET /stats HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n${SMUGGLED}`,
    );
    if (Number(process.versions.modules) < 127) {
      expectRefused(x);
      return;
    }
    // uWS v20.69 (Node 22/24) refuses it itself, before any route, with an HTML body that has no
    // Content-Length (so it is left in `rest`), then closes: no second response.
    expect(x.responses.map((r) => r.status)).toEqual([400]);
    expect(x.closedByServer).toBe(true);
    expect(x.rest).not.toContain('HTTP/1.1');
  });

  test('Content-Length with Transfer-Encoding: chunked: nothing is answered with 200', async () => {
    // uWS itself refuses this one before any route sees it.
    const x = await rawExchange(
      ts.port,
      `GET /stats HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    );
    expect(x.responses.every((r) => r.status === 400)).toBe(true);
    expect(x.closedByServer).toBe(true);
  });

  test('an unknown path (the 404 route) is checked too', async () => {
    const x = await rawExchange(
      ts.port,
      `GET /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n${SMUGGLED}`,
    );
    expectRefused(x);
  });
});

describe.each(['/feed', '/stream', '/stats/stream'])('WebSocket upgrade on %s', (path) => {
  test('two different Content-Length: 400 instead of 101, closed, the rest never answered', async () => {
    const x = await rawExchange(
      ts.port,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        `Authorization: Bearer ${FEED_TOKEN}\r\n` +
        `Content-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    );
    expectRefused(x);
  });
});

describe('well-formed requests are unaffected', () => {
  test('pipelined GETs on one connection are all answered', async () => {
    const x = await rawExchange(
      ts.port,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
      { responses: 3 },
    );
    expect(x.responses.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test.each([
    ['one Content-Length', 'Content-Length: 1\r\n\r\nx'],
    ['the same Content-Length twice', 'Content-Length: 1\r\nContent-Length: 1\r\n\r\nx'],
    ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'],
  ])('a POST with %s reaches its route, which reads the body', async (_, framing) => {
    const x = await rawExchange(
      ts.port,
      `POST /admin/loadtest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n${framing}` +
        SMUGGLED,
      { responses: 2 },
    );
    // The route's own answer to a body that is not JSON, then the next request's.
    expect(x.responses.map((r) => r.status)).toEqual([400, 200]);
    expect(JSON.parse(x.responses[0]!.body)).toMatchObject({ error: 'bad_request' });
    expect(x.responses[0]!.headers.connection).toBeUndefined();
    expect(ts.server.loadTester.latest).toBeUndefined();
  });
});
