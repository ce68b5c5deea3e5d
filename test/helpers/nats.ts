/**
 * A real nats-server (Debian's package; JetStream on, file storage in a
 * temporary directory) on a free port, for the bus tests. `available` is
 * false when the binary is missing: those tests skip with a visible notice
 * (.ci/run installs it, so CI always runs them).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './clients.js';
import { type TestServer, startServer } from './server.js';

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

export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, storeDir: string) {
    this.port = port;
    this.storeDir = storeDir;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts on `port` (default: a free one). */
  static async start(port?: number): Promise<NatsServer> {
    const server = new NatsServer(
      port ?? (await freePort()),
      mkdtempSync(join(tmpdir(), 'tw-nats-')),
    );
    await server.restart();
    return server;
  }

  /** (Re)starts on the same port and store directory. */
  async restart(): Promise<void> {
    this.#child = spawn(
      BINARY,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      { stdio: 'ignore' },
    );
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
