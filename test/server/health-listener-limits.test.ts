/**
 * The health listener is bounded: a request head past
 * HEALTH_MAX_HEADER_BYTES gets 431 and the connection closed; a request not
 * complete within the timeout gets 408 and is closed, and so is a
 * connection that sends nothing; connections past the cap are closed
 * unanswered as they arrive while those within it are served; a handler
 * that throws closes its connection and nothing else; a probe that resets
 * its connection (as HAProxy does after each check) harms nothing. The
 * listener is built directly, with a short timeout and a small cap.
 */
import { type Socket, createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  HEALTH_MAX_HEADER_BYTES,
  HEALTH_MAX_SOCKETS,
  HealthListener,
} from '../../src/server/health-listener.js';
import { parseResponses, rawExchange } from '../helpers/raw-http.js';

const MAX_SOCKETS = 4;
let health: HealthListener;
let port: number;
let throwOnReady = false;

beforeAll(async () => {
  health = new HealthListener(
    {
      ready: () => {
        if (throwOnReady) throw new Error('ready() failed');
        return true;
      },
    },
    { maxSockets: MAX_SOCKETS, timeoutMs: 300 },
  );
  port = await health.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await health.close();
});

test('the defaults: 8 KiB heads, 64 connections', () => {
  expect(HEALTH_MAX_HEADER_BYTES).toBe(8 * 1024);
  expect(HEALTH_MAX_SOCKETS).toBe(64);
});

describe('request head size', () => {
  const head = (size: number): string => {
    const start = 'GET /healthz HTTP/1.0\r\nX-Pad: ';
    return `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
  };

  test('a head within the limit is answered (the control)', async () => {
    const x = await rawExchange(port, head(HEALTH_MAX_HEADER_BYTES - 512));
    expect(x.responses.map((r) => r.status)).toEqual([200]);
  });

  test('a head past the limit: 431, closed', async () => {
    const x = await rawExchange(port, head(HEALTH_MAX_HEADER_BYTES + 1024));
    expect(x.responses.map((r) => r.status)).toEqual([431]);
    expect(x.closedByServer).toBe(true);
  });
});

describe('time', () => {
  test('an incomplete request: 408 once the timeout passed, closed', async () => {
    const x = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(x.responses.map((r) => r.status)).toEqual([408]);
    expect(x.closedByServer).toBe(true);
  });

  test('a connection that sends nothing is closed', async () => {
    const x = await rawExchange(port, '');
    expect(x.responses.map((r) => r.status)).not.toContain(200);
    expect(x.closedByServer).toBe(true);
  });
});

/** A connected socket and what it has received until it closed. */
interface Held {
  readonly socket: Socket;
  data: Buffer;
  readonly closed: Promise<void>;
}

function hold(to: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: to });
    const held: Held = {
      socket,
      data: Buffer.alloc(0),
      closed: new Promise((r) => socket.once('close', () => r())),
    };
    socket.on('data', (d: Buffer) => (held.data = Buffer.concat([held.data, d])));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(held));
    socket.once('error', reject);
  });
}

test('connections past the cap are closed unanswered; those within it are served', async () => {
  // A listener of its own with the default timeout: the held connections
  // must not time out while the test runs.
  const capped = new HealthListener({ ready: () => true }, { maxSockets: MAX_SOCKETS });
  const to = await capped.listen('127.0.0.1', 0);
  try {
    const within: Held[] = [];
    for (let i = 0; i < MAX_SOCKETS; i++) within.push(await hold(to));
    // Accepted in order: by the time this one is taken, the cap is reached.
    const extra = await hold(to);
    extra.socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    await extra.closed;
    expect(extra.data.length).toBe(0);
    for (const h of within) h.socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    await Promise.all(within.map((h) => h.closed));
    for (const h of within) {
      expect(parseResponses(h.data).responses.map((r) => r.status)).toEqual([200]);
    }
  } finally {
    await capped.close();
  }
});

test('a handler that throws closes its connection only', async () => {
  throwOnReady = true;
  try {
    const x = await rawExchange(port, 'GET /readyz HTTP/1.0\r\n\r\n');
    expect(x.responses).toHaveLength(0);
    expect(x.closedByServer).toBe(true);
  } finally {
    throwOnReady = false;
  }
  const next = await rawExchange(port, 'GET /readyz HTTP/1.0\r\n\r\n');
  expect(next.responses.map((r) => r.status)).toEqual([200]);
});

test('a probe that resets its connection after the request harms nothing', async () => {
  const h = await hold(port);
  h.socket.write('OPTIONS / HTTP/1.0\r\n\r\n');
  h.socket.resetAndDestroy();
  await h.closed;
  const next = await rawExchange(port, 'OPTIONS / HTTP/1.0\r\n\r\n');
  expect(next.responses.map((r) => r.status)).toEqual([200]);
});
