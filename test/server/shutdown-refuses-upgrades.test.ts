/**
 * During a graceful stop the listen socket is closed, and an upgrade that
 * still arrives on an HTTP connection kept alive from before is refused
 * with 503 ("unavailable…"): no WebSocket opens while the server drains.
 */
import { createConnection } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.server.stop();
});

test('an upgrade on a kept-alive connection during stop() gets 503', async () => {
  const socket = createConnection({ host: '127.0.0.1', port: ts.port });
  let received = '';
  socket.setEncoding('latin1').on('data', (d: string) => (received += d));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await expect.poll(() => received).toMatch(/^HTTP\/1\.1 200/);
  received = '';

  const stopping = ts.server.stop();
  socket.write(
    'GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await expect.poll(() => received).toMatch(/\r\n\r\nunavailable/);
  expect(received).toMatch(/^HTTP\/1\.1 503/);
  expect(ts.server.admission.limits.total).toBe(0);
  socket.destroy();
  await stopping;
});
