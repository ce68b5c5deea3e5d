/**
 * The request-head limit is the same on every Node (uWS v20.30 on Node 20, v20.69 on 22/24,
 * whose own default is 4 KiB): a subscription to 800 symbols in the query (about 8 KiB of
 * request line) upgrades everywhere; on v20.69 a head past 16 KiB is refused with 431. (v20.30
 * applies the limit only to a head that spans several reads, so a 17 KiB head in one loopback
 * segment passes there; its bound is then the 512 KiB receive buffer.)
 */
import { createConnection } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startServer();
});
afterAll(async () => {
  await ts.stop();
});

/** Sends an upgrade request and resolves with the status of the first response line. */
function upgradeStatus(path: string, extra = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: ts.port });
    let head = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('close', () =>
      reject(new Error(`closed without a status line: ${head.slice(0, 80)}`)),
    );
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
  });
}

test('a query of 800 symbols (about 8 KiB) upgrades', async () => {
  const symbols = Array.from({ length: 800 }, (_, i) => `SYM${String(i).padStart(5, '0')}`);
  const path = `/stream?symbols=${symbols.join(',')}`;
  expect(path.length).toBeGreaterThan(7000);
  expect(await upgradeStatus(path)).toBe(101);
});

const V20_69 = Number(process.versions.modules) >= 127; // Node 22 and 24

test.runIf(V20_69)('uWS v20.69: a request head over 16 KiB is refused with 431', async () => {
  expect(await upgradeStatus('/stream?symbols=AAPL', `X-Big: ${'b'.repeat(17_000)}\r\n`)).toBe(431);
});
