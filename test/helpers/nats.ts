/**
 * A real nats-server (Debian's package; JetStream on, file storage in a
 * temporary directory) on a free port, for the bus tests. `available` is
 * false when the binary is missing: those tests skip with a visible notice
 * (.ci/run installs it, so CI always runs them).
 *
 * NatsProxy is a TCP relay between one node and the server that a test can
 * pause, make drop the server's replies, or cut: the network faults the bus
 * must survive (a stalled node, a lost PubAck, a dropped connection),
 * produced on the wire rather than imitated.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusStats } from '../../src/bus/nats-bus.js';
import { waitFor } from './clients.js';
import { type TestServer, httpGet, startServer } from './server.js';

const BINARY = 'nats-server';

export const natsAvailable: boolean = spawnSync(BINARY, ['--version']).status === 0;

if (!natsAvailable) {
  console.warn(
    `NOTICE: ${BINARY} not found: NATS bus tests are SKIPPED (install it with apt-get install nats-server; .ci/run does)`,
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface NatsServerOptions {
  /** JetStream on (default true). */
  readonly jetstream?: boolean;
  /** The server's max_payload (default: nats-server's, 1 MiB). */
  readonly maxPayload?: number;
}

export interface RestartOptions {
  /** JetStream on (default true). */
  readonly jetstream?: boolean;
  /** Start with an empty store, as if the server had lost its disk. */
  readonly wipeStore?: boolean;
}

export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  readonly #options: NatsServerOptions;
  #child: ChildProcess | undefined;

  private constructor(port: number, storeDir: string, options: NatsServerOptions) {
    this.port = port;
    this.storeDir = storeDir;
    this.#options = options;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts on `port` (default: a free one). */
  static async start(port?: number, options: NatsServerOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(
      port ?? (await freePort()),
      mkdtempSync(join(tmpdir(), 'tw-nats-')),
      options,
    );
    await server.restart({ jetstream: options.jetstream ?? true });
    return server;
  }

  /** (Re)starts on the same port and store directory. */
  async restart(options: RestartOptions = {}): Promise<void> {
    if (options.wipeStore === true) {
      rmSync(join(this.storeDir, 'jetstream'), { recursive: true, force: true });
    }
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir];
    if (options.jetstream ?? true) args.push('-js');
    if (this.#options.maxPayload !== undefined) {
      const conf = join(this.storeDir, 'nats.conf');
      writeFileSync(conf, `max_payload: ${this.#options.maxPayload}\n`);
      args.push('-c', conf);
    }
    this.#child = spawn(BINARY, args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (Date.now() > deadline) throw new Error('nats-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: no goodbye to clients. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** The `bus` section of a node's /stats (NATS mode). */
export async function busStats(node: TestServer): Promise<BusStats> {
  const res = await httpGet(node.httpUrl('/stats'));
  if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
  return (JSON.parse(res.body) as { bus: BusStats }).bus;
}

/** A nats-server and tickwire nodes on it (in this process, each on its own port). */
export interface Cluster {
  readonly nats: NatsServer;
  readonly nodes: TestServer[];
  stop(): Promise<void>;
}

/** Starts a nats-server and `count` ready nodes with `options` (buildConfig keys). */
export async function startCluster(
  count: number,
  options: Record<string, unknown> = {},
): Promise<Cluster> {
  const nats = await NatsServer.start();
  const nodes: TestServer[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startServer({ nats: nats.url, ...options }));
  await waitFor(() => nodes.every((n) => n.server.ready), 'nodes ready', 10_000);
  return {
    nats,
    nodes,
    async stop() {
      for (const n of nodes) await n.stop();
      await nats.stop();
    },
  };
}

/**
 * A TCP relay in front of a nats-server, for one node's connection. `pause`
 * stops forwarding both ways (a node that stalls: its consumer falls behind,
 * its appends wait); `dropReplies` forwards what the node sends but drops
 * everything the server sends back until `cut` (a PubAck lost with its
 * connection); `cut` closes every relayed connection (the node reconnects
 * through the relay, which then forwards normally again).
 */
export class NatsProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #target: number;
  readonly #pairs = new Set<{ readonly client: Socket; readonly upstream: Socket }>();
  #paused = false;
  #dropping = false;

  private constructor(server: Server, port: number, target: number) {
    this.#server = server;
    this.port = port;
    this.#target = target;
    server.on('connection', (client) => this.#relay(client));
  }

  /** A relay to 127.0.0.1:`target` on a free port. */
  static start(target: number): Promise<NatsProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
        resolve(new NatsProxy(server, port, target));
      });
    });
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  pause(): void {
    this.#paused = true;
    for (const p of this.#pairs) {
      p.client.pause();
      p.upstream.pause();
    }
  }

  resume(): void {
    this.#paused = false;
    for (const p of this.#pairs) {
      p.client.resume();
      p.upstream.resume();
    }
  }

  dropReplies(): void {
    this.#dropping = true;
  }

  cut(): void {
    this.#dropping = false;
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.#pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.#target });
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (!this.#dropping) client.write(d);
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
    if (this.#paused) {
      client.pause();
      upstream.pause();
    }
  }
}
