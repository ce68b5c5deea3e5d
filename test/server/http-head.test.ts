/**
 * HEAD on every GET route (/healthz, /readyz, /stats, /metrics, the
 * dashboard): the status and headers GET would send, Content-Length
 * included, and no body, so that the next response on a kept-alive
 * connection is read correctly (`curl -I`, GNU `wget --spider`, load
 * balancers' HEAD checks). Unknown paths answer HEAD 404, also bodiless.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RawResponse, rawExchange } from '../helpers/raw-http.js';
import { type TestServer, startServer } from '../helpers/server.js';

/** Sent after the HEAD on the same connection: its answer must follow the HEAD's header block. */
const NEXT = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

/** HEAD `path` then GET /healthz on one kept-alive connection; returns the HEAD's response. */
async function head(path: string, headers = ''): Promise<RawResponse> {
  const x = await rawExchange(
    ts.port,
    `HEAD ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n${NEXT}`,
    {
      responses: 2,
      heads: 1,
    },
  );
  expect(x.responses).toHaveLength(2);
  // The GET after it parses cleanly: the HEAD's answer carried no body.
  expect(x.responses[1]!.status).toBe(200);
  expect(x.responses[1]!.body).toBe('{"status":"ok"}');
  expect(x.rest).toBe('');
  return x.responses[0]!;
}

/** GET `path` on its own connection. */
async function get(path: string, headers = ''): Promise<RawResponse> {
  const x = await rawExchange(ts.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`, {
    responses: 1,
  });
  expect(x.responses).toHaveLength(1);
  return x.responses[0]!;
}

describe('HEAD answers what GET would, without the body', () => {
  test.each(['/healthz', '/readyz', '/'])('%s: same status, type and length', async (path) => {
    const h = await head(path);
    const g = await get(path);
    expect(g.status).toBe(200);
    expect(h.status).toBe(g.status);
    expect(h.headers['content-type']).toBe(g.headers['content-type']);
    expect(h.headers['content-length']).toBe(String(Buffer.byteLength(g.body)));
  });

  test.each(['/stats', '/metrics'])('%s: 200 with its type and a length', async (path) => {
    const h = await head(path);
    const g = await get(path);
    expect(h.status).toBe(200);
    expect(h.headers['content-type']).toBe(g.headers['content-type']);
    expect(Number(h.headers['content-length'])).toBeGreaterThan(0);
  });

  test('the dashboard, gzip accepted: the encoding and length of the gzip body', async () => {
    const ae = 'Accept-Encoding: gzip\r\n';
    const h = await head('/', ae);
    const x = await rawExchange(ts.port, `GET / HTTP/1.1\r\nHost: x\r\n${ae}\r\n`, {
      responses: 1,
    });
    const g = x.responses[0]!;
    expect(g.headers['content-encoding']).toBe('gzip');
    expect(h.headers['content-encoding']).toBe('gzip');
    expect(h.headers['content-length']).toBe(g.headers['content-length']);
  });
});

test('HEAD of an unknown path: 404 without a body', async () => {
  const h = await head('/no-such-path');
  expect(h.status).toBe(404);
});
