/**
 * The server as a process under a low open-file limit (`prlimit`): the
 * connection limits are lowered to fit (soft limit less 64), one stderr line
 * says so, /stats shows the limits in force, and an upgrade past them is
 * refused with 503 instead of leaving the accept loop out of descriptors
 * (where uWS spins at 100% CPU and accepts nothing, /healthz included).
 * A soft limit below the hard one is raised first (Node does it at start;
 * fd-limit.ts falls back on prlimit).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawUpgradeRefused, RawWebSocket } from '../helpers/raw-ws.js';
import { type RunningServer, ensureBuilt, startProcess, stopProcess } from '../helpers/process.js';
import { httpGet } from '../helpers/server.js';

const LOCAL = ['--host', '127.0.0.1', '--port', '0', '--feed-token', 'fd-limit-token'];
const available = spawnSync('prlimit', ['--version']).status === 0;
const running: RunningServer[] = [];

async function start(nofile: string, args: string[] = []): Promise<RunningServer> {
  const s = await startProcess([...LOCAL, ...args], {}, 10_000, ['prlimit', `--nofile=${nofile}`]);
  running.push(s);
  return s;
}

interface Limits {
  max_connections: number;
  max_connections_per_ip: number;
}

async function statsOf(s: RunningServer): Promise<{ limits: Limits; pid: number }> {
  const res = await httpGet(`http://127.0.0.1:${s.port}/stats`);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as { limits: Limits; pid: number };
}

/** The stderr lines about the open-file limit. */
function fdLines(s: RunningServer): string[] {
  return s
    .stderr()
    .split('\n')
    .filter((l) => l.includes('open-file limit'));
}

/** [soft, hard] "Max open files" of a running process. */
function nofileOf(pid: number): [string, string] {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return [m![1]!, m![2]!];
}

beforeAll(() => {
  ensureBuilt();
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((s) => stopProcess(s, 'SIGKILL').catch(() => undefined)));
});

describe.skipIf(!available)('open-file limit at start', () => {
  test('256:256 with the default 10,000 connections: lowered to 192, said in one line, enforced', async () => {
    const s = await start('256:256');
    const lines = fdLines(s);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/open-file limit 256 \(hard 256\)/);
    expect(lines[0]).toMatch(/--max-connections lowered from 10000 to 192/);
    expect(lines[0]).toMatch(/--max-connections-per-ip from 1000 to 192/);
    expect((await statsOf(s)).limits).toEqual({
      max_connections: 192,
      max_connections_per_ip: 192,
    });

    const open: RawWebSocket[] = [];
    try {
      for (let i = 0; i < 192; i++) open.push(await RawWebSocket.connect(s.port, '/stream'));
      const refused = await RawWebSocket.connect(s.port, '/stream').then(
        (ws) => {
          open.push(ws);
          return 0;
        },
        (err: unknown) => (err instanceof RawUpgradeRefused ? err.status : -1),
      );
      expect(refused).toBe(503);
      // Descriptors are left for everything else.
      expect((await httpGet(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    } finally {
      for (const ws of open) ws.destroy();
    }
    expect(await stopProcess(s)).toEqual({ code: 0, signal: null });
  }, 30_000);

  test('a limit that fits (--max-connections 100 under 256): no line, nothing changed', async () => {
    const s = await start('256:256', [
      '--max-connections',
      '100',
      '--max-connections-per-ip',
      '50',
    ]);
    expect((await statsOf(s)).limits).toEqual({ max_connections: 100, max_connections_per_ip: 50 });
    expect(await stopProcess(s)).toEqual({ code: 0, signal: null });
    expect(fdLines(s)).toEqual([]);
  });

  test('soft 256, hard 4096: the soft limit is raised to 4096 and the limits fitted to that', async () => {
    const s = await start('256:4096');
    const { limits, pid } = await statsOf(s);
    expect(nofileOf(pid)).toEqual(['4096', '4096']);
    expect(limits).toEqual({ max_connections: 4032, max_connections_per_ip: 1000 });
    const lines = fdLines(s);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/open-file limit 4096 \(hard 4096\)/);
    expect(lines[0]).toMatch(/--max-connections lowered from 10000 to 4032/);
  });

  test('--max-connections 0 (unlimited) gets the room there is', async () => {
    const s = await start('512:512', ['--max-connections', '0', '--max-connections-per-ip', '0']);
    expect((await statsOf(s)).limits).toEqual({ max_connections: 448, max_connections_per_ip: 0 });
    expect(fdLines(s)[0]).toMatch(/--max-connections lowered from unlimited to 448/);
  });
});
