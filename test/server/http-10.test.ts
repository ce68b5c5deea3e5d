/**
 * HTTP/1.0 requests never reach tickwire's handlers: uWS's parser takes only
 * `HTTP/1.1` request lines (and, for those, requires Host). What a probe
 * then sees depends on the uWS binary, and docs/deploy.md ("Health checks")
 * states it; these tests pin it so that the guide is corrected when a uWS
 * update changes it.
 *
 * - uWS v20.69 (Node 22 and 24): 505 with `Connection: close`, and the
 *   connection closed at once; an HTTP/1.1 request without Host gets 400,
 *   likewise.
 * - uWS 20.30 (Node 20): no answer at all. The request line is kept
 *   buffered as if the request were incomplete, so nothing sent after it on
 *   the connection is answered either; the connection closes on uWS's HTTP
 *   idle timeout (about 10 s), or at once when more than 4 KiB of unparsed
 *   bytes pile up (tested here, to need no timer).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rawExchange } from '../helpers/raw-http.js';
import { type TestServer, startServer } from '../helpers/server.js';

/** Node 20 loads uWS 20.30; Node 22 and 24 load v20.69 (see src/server/uws.ts). */
const UWS_20_30 = process.versions.modules === '115';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

const HTTP10 = [
  ['HTTP/1.0 without Host', 'GET /healthz HTTP/1.0\r\n\r\n'],
  ['HTTP/1.0 with Host (curl -0)', 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'],
  [
    'HTTP/1.0 HEAD, kept alive',
    'HEAD /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n',
  ],
] as const;

describe.skipIf(UWS_20_30)('uWS v20.69 (Node 22/24)', () => {
  test.each(HTTP10)('%s: 505, Connection: close, closed', async (_, request) => {
    const x = await rawExchange(ts.port, request);
    expect(x.responses).toHaveLength(1);
    expect(x.responses[0]!.status).toBe(505);
    expect(x.responses[0]!.headers.connection).toBe('close');
    expect(x.closedByServer).toBe(true);
  });

  test('HTTP/1.1 without Host: 400, Connection: close, closed', async () => {
    const x = await rawExchange(ts.port, 'GET /healthz HTTP/1.1\r\n\r\n');
    expect(x.responses).toHaveLength(1);
    expect(x.responses[0]!.status).toBe(400);
    expect(x.responses[0]!.headers.connection).toBe('close');
    expect(x.closedByServer).toBe(true);
  });
});

describe.skipIf(!UWS_20_30)('uWS 20.30 (Node 20)', () => {
  /** Past uWS's 4 KiB limit of bytes held for an incomplete request. */
  const PAST_LIMIT = 'x'.repeat(5000);
  const THEN_VALID = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

  test.each([...HTTP10, ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\n\r\n'] as const])(
    '%s: never answered, nor the HTTP/1.1 request after it; closed once 4 KiB pile up',
    async (_, request) => {
      const x = await rawExchange(ts.port, request + THEN_VALID + PAST_LIMIT);
      expect(x.responses).toHaveLength(0);
      expect(x.rest).toBe('');
      expect(x.closedByServer).toBe(true);
    },
  );

  test('the same HTTP/1.1 request alone is answered (the control)', async () => {
    const x = await rawExchange(ts.port, THEN_VALID, { responses: 1 });
    expect(x.responses[0]!.status).toBe(200);
  });
});
