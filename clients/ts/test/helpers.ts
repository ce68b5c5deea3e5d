/**
 * Helpers for the client SDK tests: a `ws` subclass the tests can observe
 * and take offline, and event collection without timing assertions.
 */
import { type AddressInfo, createServer } from 'node:net';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../src/connection.js';
import type { Listener } from '../src/emitter.js';
import type { FeedClient, FeedClientEvents } from '../src/feed-client.js';
import type { StreamClient, StreamClientEvents } from '../src/stream-client.js';
import { waitFor } from '../../../test/helpers/clients.js';

export interface Controlled {
  /** Pass as the `WebSocket` option. */
  readonly WebSocket: WebSocketConstructor;
  /** Every socket created, in order. */
  readonly sockets: WebSocket[];
  /** Messages received per socket: true for binary frames. */
  readonly frameKinds: boolean[];
  /** While offline, connection attempts fail at once (a simulated network outage). */
  offline: boolean;
}

export function controlledWebSocket(): Controlled {
  const state: Controlled = {
    WebSocket,
    sockets: [],
    frameKinds: [],
    offline: false,
  };
  class ControlledWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
      if (state.offline) throw new Error('network is down (test)');
      super(url, protocols, options);
      state.sockets.push(this);
      this.on('message', (_data, isBinary) => state.frameKinds.push(isBinary));
    }
  }
  (state as { WebSocket: WebSocketConstructor }).WebSocket = ControlledWebSocket;
  return state;
}

/** Records every payload of `event`. */
export function collect<K extends keyof StreamClientEvents>(
  emitter: StreamClient,
  event: K,
): StreamClientEvents[K][];
export function collect<K extends keyof FeedClientEvents>(
  emitter: FeedClient<boolean>,
  event: K,
): FeedClientEvents[K][];
export function collect(
  emitter: { on(event: string, listener: Listener<unknown>): unknown },
  event: string,
): unknown[] {
  const out: unknown[] = [];
  emitter.on(event, (payload: unknown) => out.push(payload));
  return out;
}

/** Waits until `list` has at least `count` entries. */
export async function atLeast<T>(list: readonly T[], count: number, what: string): Promise<void> {
  await waitFor(() => list.length >= count, `${count} ${what} (have ${list.length})`);
}

/** A port nobody listens on: bound once by this process, then released. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Cleanups run after each test, newest first: register clients and servers
 * as they are made. Call once per test file, at the top level.
 */
export function cleanups(): (cleanup: () => Promise<void>) => void {
  const list: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of list.splice(0).reverse()) await c();
  });
  return (cleanup) => {
    list.push(cleanup);
  };
}

/**
 * A `ws` class that connects to whichever server `target.port` names, whatever
 * port the client's URL holds: a client can move to a new server (a restart
 * elsewhere) without the old port being listened on again. While
 * `target.offline`, connection attempts fail at once.
 */
export function redirectingWebSocket(target: { port: number; offline: boolean }): {
  readonly WebSocket: WebSocketConstructor;
  readonly sockets: WebSocket[];
} {
  const sockets: WebSocket[] = [];
  class Redirecting extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
      if (target.offline) throw new Error('network is down (test)');
      const u = new URL(url);
      u.port = String(target.port);
      super(u.href, protocols, options);
      sockets.push(this);
    }
  }
  return { WebSocket: Redirecting, sockets };
}
