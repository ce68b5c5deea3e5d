/**
 * The health listener lives as long as the server: /readyz (and `/`) answer
 * 503 on it while the server is not ready (its NATS bus unreachable) and
 * all through the shutdown drain, after the main port stopped accepting,
 * so a load balancer that checks it sees the drain; /healthz answers 200
 * meanwhile; the port is closed once stop() resolves. A start that cannot
 * listen on either port fails with listen_failed and leaves neither open.
 */
import { type Server, createConnection, createServer } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { ListenError, ServerErrorCode } from '../../src/errors.js';
import { TickwireServer } from '../../src/server/server.js';
import { rawExchange } from '../helpers/raw-http.js';
import { freePort } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { floodUntil, tcpOf } from '../helpers/slow.js';

const started: TestServer[] = [];

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

/** The statuses of /readyz, / (HAProxy's default check) and /healthz on the health port. */
async function probes(port: number): Promise<number[]> {
  const out: number[] = [];
  for (const request of [
    'GET /readyz HTTP/1.0\r\n\r\n',
    'OPTIONS / HTTP/1.0\r\n\r\n',
    'GET /healthz HTTP/1.0\r\n\r\n',
  ]) {
    const x = await rawExchange(port, request);
    out.push(x.responses[0]?.status ?? 0);
  }
  return out;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('ready: 200; NATS unreachable: 503 (/healthz 200)', async () => {
  const ready = await startServer({ healthPort: 0 });
  started.push(ready);
  expect(await probes(ready.server.healthPort!)).toEqual([200, 200, 200]);
  const waiting = await startServer({
    healthPort: 0,
    nats: `nats://127.0.0.1:${await freePort()}`,
  });
  started.push(waiting);
  expect(await probes(waiting.server.healthPort!)).toEqual([503, 503, 200]);
});

test('shutdown: 503 through the drain, closed when stop() resolves', async () => {
  const ts = await startServer({
    healthPort: 0,
    conflateAt: 512 * 1024 * 1024,
    maxBackpressure: 1024 * 1024 * 1024,
    stallTimeoutS: 3600,
  });
  started.push(ts);
  const port = ts.server.healthPort!;
  const slow = await ts.stream('symbols=HL.A');
  await slow.nextOp('snapshot');
  tcpOf(slow).pause();
  const feed = await ts.feed();
  const queued = (): boolean =>
    [...ts.server.sockets].some(
      (ws) => ws.getUserData().kind === 'stream' && ws.getBufferedAmount() > 0,
    );
  await floodUntil(feed, ['HL.A'], queued, { perSymbol: 0 });

  // The drain waits for the paused subscriber's queue: it lasts until it reads again.
  const stopping = ts.server.stop();
  expect(ts.server.ready).toBe(false);
  expect(await accepts(ts.port)).toBe(false);
  expect(await probes(port)).toEqual([503, 503, 200]);

  tcpOf(slow).resume();
  expect((await slow.waitClose(20_000)).code).toBe(1001);
  await stopping;
  expect(ts.server.healthPort).toBeUndefined();
  expect(await accepts(port)).toBe(false);
});

describe('start fails: listen_failed, neither port left open', () => {
  let holder: Server;
  let held: number;

  afterAll(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  async function startFailure(port: number, healthPort: number): Promise<ListenError> {
    const server = new TickwireServer(
      buildConfig({ host: '127.0.0.1', port, healthPort, feedToken: 'health-port-lifecycle' }),
    );
    try {
      await server.start();
    } catch (err) {
      expect(err).toBeInstanceOf(ListenError);
      return err as ListenError;
    } finally {
      await server.stop(0);
    }
    throw new Error('expected start() to fail');
  }

  test('the health port in use', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    held = (holder.address() as { port: number }).port;
    const main = await freePort();
    const err = await startFailure(main, held);
    expect(err.code).toBe(ServerErrorCode.ListenFailed);
    expect(err.message).toContain('EADDRINUSE');
    expect(await accepts(main)).toBe(false);
  });

  test('the main port in use', async () => {
    const health = await freePort();
    const err = await startFailure(held, health);
    expect(err.code).toBe(ServerErrorCode.ListenFailed);
    expect(err.message).toContain('EADDRINUSE');
    expect(await accepts(health)).toBe(false);
  });
});
