/**
 * A failed listen says why: `listen_failed` with the errno behind it (uWS's
 * listen callback only reports `false`; the server probes the address with
 * node:net to find the cause).
 */
import { type Server, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { ListenError, ServerErrorCode } from '../../src/errors.js';
import { TickwireServer } from '../../src/server/server.js';

let holder: Server;
let heldPort = 0;

beforeAll(async () => {
  // A plain node:net listener (no SO_REUSEPORT), so uWS cannot share the port.
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  heldPort = (holder.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
});

/** Starts a server on host:port and returns what start() rejected with. */
async function startFailure(host: string, port: number): Promise<ListenError> {
  const server = new TickwireServer(
    buildConfig({ host, port, feedToken: 'listen-failed-token', drainTimeoutS: 0 }),
  );
  try {
    await server.start();
  } catch (err) {
    expect(err).toBeInstanceOf(ListenError);
    return err as ListenError;
  } finally {
    await server.stop();
  }
  throw new Error(`expected start() on ${host}:${port} to fail`);
}

describe('listen_failed', () => {
  test('a port another process listens on: listen_failed naming EADDRINUSE', async () => {
    const err = await startFailure('127.0.0.1', heldPort);
    expect(err.code).toBe(ServerErrorCode.ListenFailed);
    expect(err.message).toContain('EADDRINUSE');
  });

  test('an address this machine does not have: listen_failed naming EADDRNOTAVAIL', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
    const err = await startFailure('192.0.2.1', 0);
    expect(err.code).toBe(ServerErrorCode.ListenFailed);
    expect(err.message).toContain('EADDRNOTAVAIL');
  });
});
