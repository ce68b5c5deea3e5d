/**
 * `--workers N`: N processes serving one port. The first process (the one
 * started by the user) listens, then forks N − 1 copies of itself that
 * listen on the same port (uWS opens listen sockets with SO_REUSEPORT on
 * Linux, so the kernel spreads new connections across the processes). The
 * processes share nothing in memory: they meet on NATS, which is why more
 * than one worker requires --nats. The first process forwards SIGTERM and
 * SIGINT to the others, waits for them, and restarts a worker that dies
 * unexpectedly. Workers are forked with an IPC channel, which closes when
 * the first process exits however it died: a worker then stops gracefully
 * (main.ts, 'disconnect') instead of serving on unsupervised.
 */
import { type ChildProcess, fork } from 'node:child_process';

/** Set in a worker's environment: its index (1 … N−1). The first process is 0. */
export const WORKER_INDEX_ENV = 'TICKWIRE_WORKER_INDEX';
/** Set in a worker's environment: the port the first process listens on. */
export const WORKER_PORT_ENV = 'TICKWIRE_WORKER_PORT';

const RESTART_DELAY_MS = 1000;

/** This process's worker index (0 for the first process). */
export function workerIndex(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[WORKER_INDEX_ENV];
  return v === undefined ? 0 : Number(v);
}

export class Workers {
  readonly #children = new Map<number, ChildProcess>();
  readonly #port: number;
  readonly #feedToken: string;
  #stopping = false;

  constructor(port: number, feedToken: string) {
    this.#port = port;
    this.#feedToken = feedToken;
  }

  /** Forks workers 1 … count−1. */
  start(count: number): void {
    for (let i = 1; i < count; i++) this.#fork(i);
  }

  #fork(index: number): void {
    const child = fork(process.argv[1]!, process.argv.slice(2), {
      env: {
        ...process.env,
        [WORKER_INDEX_ENV]: String(index),
        [WORKER_PORT_ENV]: String(this.#port),
        // A generated token must be the same in every process.
        TICKWIRE_FEED_TOKEN: this.#feedToken,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.#children.set(index, child);
    child.once('exit', (code, signal) => {
      this.#children.delete(index);
      if (this.#stopping) return;
      process.stderr.write(
        `tickwire: worker ${index} exited (${signal ?? `code ${String(code)}`}); restarting\n`,
      );
      setTimeout(() => {
        if (!this.#stopping) this.#fork(index);
      }, RESTART_DELAY_MS).unref();
    });
  }

  /** Sends `signal` to every worker and resolves when all have exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#children.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) resolve();
          else c.once('exit', () => resolve());
        }),
    );
    for (const c of this.#children.values()) c.kill(signal);
    await Promise.all(exits);
  }
}
