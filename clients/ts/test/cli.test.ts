/**
 * tickwire-feed and tickwire-tail end to end: spawned as processes (the
 * compiled files in clients/ts/dist) against an in-process server.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, withTimeout } from '../../../test/helpers/clients.js';
import { ROOT, cleanEnv } from '../../../test/helpers/process.js';
import { FEED_TOKEN, type TestServer, startServer } from '../../../test/helpers/server.js';
import { FeedClient } from '../src/index.js';

const CLIENT = join(ROOT, 'clients/ts');
const BIN = join(CLIENT, 'dist/clients/ts/src/bin');
const FEED = join(BIN, 'tickwire-feed.js');
const TAIL = join(BIN, 'tickwire-tail.js');

function newestTs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the client package when its output is missing or older than its sources. */
function ensureClientBuilt(): void {
  const sources = Math.max(newestTs(join(CLIENT, 'src')), newestTs(join(ROOT, 'src/protocol')));
  if (existsSync(FEED) && existsSync(TAIL) && statSync(FEED).mtimeMs >= sources) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: CLIENT, stdio: 'pipe', timeout: 120_000 },
  );
}

interface Run {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

const running: Run[] = [];
const servers: TestServer[] = [];

function run(script: string, args: string[]): Run {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const r = { child, stdout: () => out, stderr: () => err, exited };
  running.push(r);
  return r;
}

async function finish(r: Run): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const code = await withTimeout(r.exited, 15_000, 'process exit');
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

async function server(options: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

beforeAll(() => ensureClientBuilt(), 120_000);

afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
  for (const s of servers.splice(0)) await s.stop();
});

/** Exactly one line on stderr, naming the tool. */
function oneLine(stderr: string, tool: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${tool}: `));
  return lines[0]!;
}

describe('tickwire-feed', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await finish(run(FEED, ['--help']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: tickwire-feed');
    expect(r.stdout).toContain('--ack');
  });

  it.each([
    [['--token', 't'], '--url'],
    [['--url', 'ws://127.0.0.1:1'], '--token'],
    [['--url', 'http://x', '--token', 't'], '--url'],
    [['--url', 'ws://127.0.0.1:1', '--token', 't', '--rate', 'fast'], '--rate'],
    [['--url', 'ws://127.0.0.1:1', '--token', 't', '--batch', '5000'], '--batch'],
    [['--url', 'ws://127.0.0.1:1', '--token', 't', '--bogus'], 'bogus'],
  ])('bad arguments %j: exit 2 with a one-line reason', async (args, mention) => {
    const r = await finish(run(FEED, args));
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr, 'tickwire-feed')).toContain(mention);
    expect(r.stdout).toBe('');
  });

  it('publishes at the given shape and reports what the server accepted (--ack)', async () => {
    const s = await server();
    const r = await finish(
      run(FEED, [
        '--url',
        `ws://127.0.0.1:${s.port}`,
        '--token',
        FEED_TOKEN,
        '--symbols',
        '3',
        '--rate',
        '400',
        '--batch',
        '20',
        '--duration',
        '0.5',
        '--ack',
      ]),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sent 200 ticks in 10 frames for 3 symbols in /m);
    expect(r.stdout).toMatch(/^server accepted 200 ticks, rejected 0$/m);
    const stats = await s.stats();
    expect(stats.ticks.published).toBe(200);
    expect(stats.frames.received).toBe(10);
    expect(stats.symbols).toBe(3);
  });

  it('a wrong token: exit 1 with a one-line reason', async () => {
    const s = await server();
    const r = await finish(
      run(FEED, ['--url', `ws://127.0.0.1:${s.port}`, '--token', 'wrong', '--duration', '1']),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr, 'tickwire-feed')).toMatch(/401/);
  });

  it('nothing listening: exit 1 with a one-line reason', async () => {
    const s = await startServer();
    const port = s.port;
    await s.stop();
    const r = await finish(run(FEED, ['--url', `ws://127.0.0.1:${port}`, '--token', 't']));
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr, 'tickwire-feed')).toMatch(/could not connect/);
  });
});

describe('tickwire-tail', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await finish(run(TAIL, ['-h']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: tickwire-tail');
  });

  it.each([
    [['AAPL'], '--url'],
    [['--url', 'ws://127.0.0.1:1'], 'SYMBOL'],
    [['--url', 'ws://127.0.0.1:1', '--format', 'xml', 'AAPL'], '--format'],
    [['--url', 'ws://127.0.0.1:1', 'bad symbol'], 'invalid symbol'],
    [['--url', 'ws://127.0.0.1:1', '--count', '-1', 'AAPL'], '--count'],
  ])('bad arguments %j: exit 2 with a one-line reason', async (args, mention) => {
    const r = await finish(run(TAIL, args));
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr, 'tickwire-tail')).toContain(mention);
  });

  for (const format of ['json', 'msgpack']) {
    it(`prints the snapshot and each update as a JSON line with lag_us (${format})`, async () => {
      const s = await server();
      const feed = new FeedClient({
        url: `ws://127.0.0.1:${s.port}`,
        token: FEED_TOKEN,
        WebSocket,
        ack: true,
      });
      try {
        await feed.publish({ s: 'TL', p: 1 });
        const tail = run(TAIL, [
          '--url',
          `ws://127.0.0.1:${s.port}`,
          '--format',
          format,
          '--count',
          '3',
          'TL',
          'OTHER',
        ]);
        // The snapshot line shows the subscription is in place.
        await waitFor(() => tail.stdout().includes('\n'), 'the snapshot line');
        await feed.publish([
          { s: 'TL', p: 2, q: 5 },
          { s: 'NOPE', p: 1 },
          { s: 'TL', p: 3 },
        ]);
        await feed.publish({ s: 'OTHER', p: 4 });
        const r = await finish(tail);
        expect(r.code).toBe(0);
        expect(r.stderr).toBe('');
        const lines = r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines.map((l) => [l.s, l.p, l.n, l.snapshot ?? false])).toEqual([
          ['TL', 1, 1, true],
          ['TL', 2, 2, false],
          ['TL', 3, 3, false],
          ['OTHER', 4, 1, false],
        ]);
        for (const l of lines) {
          expect(Number.isInteger(l.lag_us)).toBe(true);
          expect(typeof l.r).toBe('number');
        }
        expect(lines[1]!.q).toBe(5);
      } finally {
        await feed.close();
      }
    });
  }

  it('a refused connection (wrong stream token): exit 1 with a one-line reason', async () => {
    const s = await server({ streamToken: 'stream-secret' });
    const r = await finish(
      run(TAIL, ['--url', `ws://127.0.0.1:${s.port}`, '--token', 'nope', 'AAPL']),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr, 'tickwire-tail')).toMatch(/401/);
  });

  it('exits 0 on SIGTERM', async () => {
    const s = await server();
    const tail = run(TAIL, ['--url', `ws://127.0.0.1:${s.port}`, '*']);
    await waitFor(async () => (await s.stats()).connections.subscribers === 1, 'subscriber');
    tail.child.kill('SIGTERM');
    const r = await finish(tail);
    expect(r.code).toBe(0);
  });
});
