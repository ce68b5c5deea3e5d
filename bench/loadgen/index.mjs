/**
 * Node side of the native load generator: builds it when missing or stale
 * (build.mjs) and runs it, parsing the one JSON line it prints.
 *
 *   import { runLoadgen } from './bench/loadgen/index.mjs';
 *   const r = await runLoadgen(['run', '--port', 8080, '--subs', 100, ...]);
 *
 * As a command: node bench/loadgen/index.mjs run --port 8080 ... (flags in
 * bench/README.md); the JSON line goes to stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureLoadgen, hasCompiler } from './build.mjs';

export { ensureLoadgen, hasCompiler };

/**
 * Runs the generator with `args` (command first: 'run', 'floor', 'selftest').
 * `input` (Buffer or string) is written to its stdin. Resolves with
 * { stdout, stderr, code }; rejects if it cannot start or outlives timeoutMs
 * (then it is killed).
 */
export function execLoadgen(args, { input, timeoutMs = 60_000 } = {}) {
  // TICKWIRE_LOADGEN_BIN: run a binary built elsewhere (a frozen build while
  // the sources change under you), instead of building bench/loadgen/src.
  const bin = process.env.TICKWIRE_LOADGEN_BIN || ensureLoadgen();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args.map(String), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loadgen ${args[0]} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
      });
    });
    child.stdin.on('error', () => {}); // it may exit before reading everything
    child.stdin.end(input ?? '');
  });
}

/**
 * Runs `run` or `floor` and returns its JSON report. Rejects when it exits
 * without one (bad flags, crash); a report with status "error" is returned.
 */
export async function runLoadgen(args, opts = {}) {
  const { stdout, stderr, code } = await execLoadgen(args, opts);
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) {
    throw new Error(`loadgen ${args[0]} exited ${code} without a report: ${stderr.trim()}`);
  }
  return JSON.parse(line);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const { stdout, stderr, code } = await execLoadgen(args, { timeoutMs: 24 * 3600_000 });
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exitCode = code ?? 1;
}
