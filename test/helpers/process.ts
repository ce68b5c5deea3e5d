/**
 * Spawning the built server (`node dist/src/main.js`) for process-level
 * tests, after making sure the build output is current.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './clients.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = join(ROOT, 'dist/src/main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds with `tsc -p tsconfig.build.json` when dist/src/main.js is missing
 * or older than any file under src/. Type errors elsewhere in the build
 * (tsc still emits) do not stop the tests; a missing main.js does.
 */
export function ensureBuilt(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 60_000,
      },
    );
  } catch (err) {
    if (!existsSync(MAIN)) throw err;
  }
  if (!existsSync(MAIN)) throw new Error(`build did not produce ${MAIN}`);
}

export interface RunningServer {
  readonly child: ChildProcess;
  /** The port from the listening line. */
  readonly port: number;
  /** The whole listening line. */
  readonly listeningLine: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Environment without any TICKWIRE_* or UWS_* variable from the outside. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('TICKWIRE_') && !k.startsWith('UWS_')) env[k] = v;
  }
  return { ...env, ...extra };
}

const LISTENING = /^tickwire listening on http:\/\/(\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d+)$/m;

export interface Spawned {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `node dist/src/main.js ARGS` with a clean environment plus `env`;
 * `wrapper` runs it through a command (e.g. `['prlimit', '--nofile=256:256']`).
 */
export function spawnServer(
  args: string[],
  env: Record<string, string> = {},
  wrapper: readonly string[] = [],
): Spawned {
  return spawnCaptured([...wrapper, process.execPath, MAIN, ...args], env);
}

/** Spawns `argv` in the repository with a clean environment plus `env`, capturing its output. */
export function spawnCaptured(argv: readonly string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Spawns the server and waits for its listening line. */
export async function startProcess(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 10_000,
  wrapper: readonly string[] = [],
): Promise<RunningServer> {
  const s = spawnServer(args, env, wrapper);
  const line = await withTimeout(
    new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const m = LISTENING.exec(s.stdout());
        if (m !== null) {
          s.child.stdout!.off('data', check);
          resolve(m[0]);
        }
      };
      s.child.stdout!.on('data', check);
      check();
      void s.exited.then(({ code, signal }) =>
        reject(
          new Error(`server exited (${code ?? signal}) before listening; stderr: ${s.stderr()}`),
        ),
      );
    }),
    timeoutMs,
    'listening line',
  ).catch((e: unknown) => {
    s.child.kill('SIGKILL');
    throw e;
  });
  const port = Number(LISTENING.exec(line)![2]);
  return { ...s, port, listeningLine: line };
}

/** Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs`. */
export async function stopProcess(
  s: Spawned,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.exited;
  s.child.kill(signal);
  try {
    return await withTimeout(s.exited, timeoutMs, `exit after ${signal}`);
  } catch (e) {
    s.child.kill('SIGKILL');
    throw e;
  }
}
