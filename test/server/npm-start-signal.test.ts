/**
 * `npm start` under a process manager: SIGTERM sent to the npm process alone
 * (not its process group) reaches the server, which is gone by the time npm
 * exits. The start script execs node: without the exec, npm's shell took the
 * signal and the server ran on, orphaned.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor, withTimeout } from '../helpers/clients.js';
import { ROOT, cleanEnv, ensureBuilt } from '../helpers/process.js';
import { httpGet } from '../helpers/server.js';

const LINE = /^tickwire listening on http:\/\/127\.0\.0\.1:(\d+)$/m;
let serverPid: number | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  ensureBuilt();
}, 60_000);

afterAll(() => {
  if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
});

test('SIGTERM to the npm process stops the server before npm exits', async () => {
  const args = ['--host', '127.0.0.1', '--port', '0', '--feed-token', 'npm-signal-token'];
  const npm = spawn('npm', ['start', '--', ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  npm.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  npm.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  try {
    await waitFor(() => LINE.test(out) || npm.exitCode !== null, 'the listening line', 30_000);
    expect(LINE.test(out), `npm start failed: ${err.slice(-1000)}`).toBe(true);
    const port = Number(LINE.exec(out)![1]);
    const stats = JSON.parse((await httpGet(`http://127.0.0.1:${port}/stats`)).body) as {
      pid: number;
    };
    serverPid = stats.pid;
    expect(serverPid).not.toBe(npm.pid);

    npm.kill('SIGTERM');
    await withTimeout(exited, 15_000, 'npm exit after SIGTERM');
    expect(alive(serverPid)).toBe(false);
  } finally {
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
  }
}, 60_000);
