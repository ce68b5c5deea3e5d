/**
 * The server as a process (`node dist/src/main.js`): the listening line,
 * the generated feed token, CLI flags vs environment variables, --demo,
 * SIGTERM/SIGINT shutdown, and the refusal to run on the uWS JS fallback.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Update, connect, expectRefused, waitFor, withTimeout } from '../helpers/clients.js';
import {
  ROOT,
  type RunningServer,
  cleanEnv,
  ensureBuilt,
  spawnServer,
  startProcess,
  stopProcess,
} from '../helpers/process.js';
import { httpGet } from '../helpers/server.js';

const LOCAL = ['--host', '127.0.0.1', '--port', '0'];
const running: RunningServer[] = [];

async function start(args: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const s = await startProcess(args, env);
  running.push(s);
  return s;
}

beforeAll(() => {
  ensureBuilt();
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((s) => stopProcess(s, 'SIGKILL').catch(() => undefined)));
});

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** The generated token from the server's "feed token" line (waits for the line). */
async function generatedToken(s: RunningServer): Promise<string> {
  const line = (): string | undefined => lines(s.stdout()).find((l) => /token/i.test(l));
  await waitFor(() => line() !== undefined, 'the generated token line');
  const token = /:\s*(\S+)\s*$/.exec(line()!)?.[1];
  if (token === undefined) throw new Error(`no token in ${line()}`);
  return token;
}

/** A feed on `port` with `token` (query form) proves it can publish. */
async function expectFeedToken(port: number, token: string): Promise<void> {
  const feed = await connect(
    `ws://127.0.0.1:${port}/feed?ack=1&token=${encodeURIComponent(token)}`,
  );
  feed.sendPack({ s: 'PR.TOKEN', p: 1 });
  expect(await feed.nextOp('ack')).toEqual({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
  await feed.close();
}

describe('startup output', () => {
  test('exactly one line on stdout: "tickwire listening on http://127.0.0.1:PORT" with the real port', async () => {
    const s = await start([...LOCAL, '--feed-token', 'given-token-1']);
    expect(s.port).toBeGreaterThan(0);
    expect((await httpGet(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    expect(await stopProcess(s)).toEqual({ code: 0, signal: null });
    expect(lines(s.stdout())).toEqual([`tickwire listening on http://127.0.0.1:${s.port}`]);
  });

  test('an IPv6 host is printed in brackets, so the line is a usable URL', async (ctx) => {
    const s = await start(['--host', '::1', '--port', '0', '--feed-token', 'given-token-6']).catch(
      (err: unknown) => err,
    );
    if (s instanceof Error) {
      // No IPv6 loopback on this machine: nothing to check.
      console.warn(`NOTICE: IPv6 listening-line test skipped: ${s.message}`);
      ctx.skip();
      return;
    }
    const line = lines((s as RunningServer).stdout())[0]!;
    expect(line).toBe(`tickwire listening on http://[::1]:${(s as RunningServer).port}`);
    expect(new URL(line.slice('tickwire listening on '.length)).port).toBe(
      String((s as RunningServer).port),
    );
  });

  test('without a feed token one is generated, printed once, and works for /feed', async () => {
    const s = await start(LOCAL);
    await generatedToken(s);
    const out = lines(s.stdout());
    expect(out.filter((l) => l.startsWith('tickwire listening on '))).toEqual([
      `tickwire listening on http://127.0.0.1:${s.port}`,
    ]);
    const tokenLines = out.filter((l) => /token/i.test(l));
    expect(tokenLines).toHaveLength(1);
    const token = await generatedToken(s);
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect(tokenLines[0]).toContain(token);
    await expectFeedToken(s.port, token);
    const refused = await expectRefused(`ws://127.0.0.1:${s.port}/feed?token=not-it-at-all`);
    expect(refused.status).toBe(401);
    // The token is printed only once, also after traffic.
    expect(s.stdout().split(token)).toHaveLength(2);
    expect(s.stderr()).not.toContain(token);
    await stopProcess(s);
  });

  test('two processes without a token generate different tokens', async () => {
    const [a, b] = await Promise.all([start(LOCAL), start(LOCAL)]);
    expect(await generatedToken(a)).not.toBe(await generatedToken(b));
    await Promise.all([stopProcess(a), stopProcess(b)]);
  });
});

describe('defaults', () => {
  test('--host defaults to 0.0.0.0 (reachable on 127.0.0.1)', async () => {
    const s = await start(['--port', '0', '--feed-token', 'default-host-1']);
    expect(s.listeningLine).toBe(`tickwire listening on http://0.0.0.0:${s.port}`);
    expect((await httpGet(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    await stopProcess(s);
  });

  test('--port defaults to 8080', async (ctx) => {
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(8080, '127.0.0.1', () => resolve(true));
    });
    if (free) await new Promise((r) => probe.close(r));
    if (!free) ctx.skip();
    const s = await start(['--host', '127.0.0.1', '--feed-token', 'default-port-1']);
    expect(s.port).toBe(8080);
    expect(s.listeningLine).toBe('tickwire listening on http://127.0.0.1:8080');
    await stopProcess(s);
  });

  test('without a stream token /stream is open', async () => {
    const s = await start([...LOCAL, '--feed-token', 'default-open-1']);
    const sub = await connect(`ws://127.0.0.1:${s.port}/stream?symbols=X`);
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['X'],
      epoch: expect.any(String),
    });
    await sub.close();
    await stopProcess(s);
  });
});

describe('options from the environment', () => {
  test('TICKWIRE_HOST, TICKWIRE_PORT=0 and TICKWIRE_FEED_TOKEN are used', async () => {
    const s = await start([], {
      TICKWIRE_HOST: '127.0.0.1',
      TICKWIRE_PORT: '0',
      TICKWIRE_FEED_TOKEN: 'env-token-abc',
    });
    expect(s.port).toBeGreaterThan(0);
    expect(s.port).not.toBe(8080);
    expect(s.listeningLine).toBe(`tickwire listening on http://127.0.0.1:${s.port}`);
    await expectFeedToken(s.port, 'env-token-abc');
    expect((await expectRefused(`ws://127.0.0.1:${s.port}/feed?token=other-token`)).status).toBe(
      401,
    );
    await stopProcess(s);
    // A given token is not printed.
    expect(s.stdout()).not.toContain('env-token-abc');
    expect(lines(s.stdout())).toHaveLength(1);
  });

  test('TICKWIRE_STREAM_TOKEN makes /stream require it', async () => {
    const s = await start(LOCAL, { TICKWIRE_STREAM_TOKEN: 'env-stream-token' });
    expect((await expectRefused(`ws://127.0.0.1:${s.port}/stream`)).status).toBe(401);
    const sub = await connect(`ws://127.0.0.1:${s.port}/stream?symbols=X&token=env-stream-token`);
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['X'],
      epoch: expect.any(String),
    });
    await sub.close();
    await stopProcess(s);
  });

  test('flags win over environment variables', async () => {
    // Hold a port so that, were TICKWIRE_PORT used, listening would fail.
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const s = await start(
        ['--host', '127.0.0.1', '--port', '0', '--feed-token', 'flag-token-xyz'],
        {
          TICKWIRE_HOST: '0.0.0.0',
          TICKWIRE_PORT: String(busy),
          TICKWIRE_FEED_TOKEN: 'env-token-abc',
          TICKWIRE_STREAM_TOKEN: 'env-stream-token',
        },
      );
      expect(s.port).not.toBe(busy);
      expect(s.listeningLine).toBe(`tickwire listening on http://127.0.0.1:${s.port}`);
      await expectFeedToken(s.port, 'flag-token-xyz');
      expect(
        (await expectRefused(`ws://127.0.0.1:${s.port}/feed?token=env-token-abc`)).status,
      ).toBe(401);
      // An env-only option still applies next to flags.
      expect((await expectRefused(`ws://127.0.0.1:${s.port}/stream`)).status).toBe(401);
      await stopProcess(s);
    } finally {
      blocker.close();
    }
  });

  test('--stream-token wins over TICKWIRE_STREAM_TOKEN', async () => {
    const s = await start(
      [...LOCAL, '--feed-token', 'flag-token-xyz', '--stream-token', 'flag-stream-token'],
      {
        TICKWIRE_STREAM_TOKEN: 'env-stream-token',
      },
    );
    const refused = await expectRefused(`ws://127.0.0.1:${s.port}/stream?token=env-stream-token`);
    expect(refused.status).toBe(401);
    const sub = await connect(`ws://127.0.0.1:${s.port}/stream?symbols=X`, {
      headers: { authorization: 'Bearer flag-stream-token' },
    });
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['X'],
      epoch: expect.any(String),
    });
    await sub.close();
    await stopProcess(s);
  });

  test('TICKWIRE_DEMO=1 turns the demo on like --demo', async () => {
    const s = await start(LOCAL, { TICKWIRE_DEMO: '1', TICKWIRE_DEMO_RATE: '200' });
    const stats = JSON.parse((await httpGet(`http://127.0.0.1:${s.port}/stats`)).body);
    expect(stats.demo).toBe(true);
    await stopProcess(s);
  });
});

describe('--demo', () => {
  test('default demo: random-walk prices for a few dozen symbols', async () => {
    const s = await start([...LOCAL, '--demo']);
    const sub = await connect(`ws://127.0.0.1:${s.port}/stream?symbols=*`);
    await sub.nextOp('snapshot');
    const ups = await sub.updatesAtLeast(400, 10_000);
    const prices = new Map<string, Set<number>>();
    for (const u of ups) {
      expect(Number.isFinite(u.p)).toBe(true);
      prices.set(u.s, (prices.get(u.s) ?? new Set()).add(u.p));
    }
    expect(prices.size).toBeGreaterThanOrEqual(20);
    expect(prices.size).toBeLessThanOrEqual(100);
    // Prices move.
    expect([...prices.values()].some((ps) => ps.size > 1)).toBe(true);
    await sub.close();
    await stopProcess(s);
  });

  test('a /stream?symbols=* client receives numbered updates, n going up by 1 per symbol', async () => {
    const s = await start([...LOCAL, '--demo', '--demo-rate', '400', '--demo-symbols', '8']);
    const sub = await connect(`ws://127.0.0.1:${s.port}/stream?symbols=*`);
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['*'],
      epoch: expect.any(String),
    });
    const snap = await sub.nextData();
    expect(snap.op).toBe('snapshot');
    const lastN = new Map((snap.ticks as Update[]).map((u): [string, number] => [u.s, u.n]));
    const ups = await sub.updatesAtLeast(100, 10_000);
    for (const u of ups) {
      expect(typeof u.s).toBe('string');
      expect(typeof u.p).toBe('number');
      expect(Number.isInteger(u.r)).toBe(true);
      expect(u.n).toBe((lastN.get(u.s) ?? 0) + 1);
      lastN.set(u.s, u.n);
    }
    expect(lastN.size).toBeGreaterThan(1);
    expect(lastN.size).toBeLessThanOrEqual(8);
    await sub.close();
    await stopProcess(s);
  });
});

describe('signals', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)(
    '%s: open clients get close 1001 going_away, process exits 0',
    async (signal) => {
      const s = await start([...LOCAL, '--feed-token', 'signal-token-1']);
      const sub = await connect(`ws://127.0.0.1:${s.port}/stream?symbols=*`);
      const feed = await connect(`ws://127.0.0.1:${s.port}/feed?token=signal-token-1`);
      await sub.nextOp('snapshot');
      const exit = stopProcess(s, signal);
      for (const c of [sub, feed]) {
        const close = await c.waitClose(10_000);
        expect(close.code).toBe(1001);
        expect(close.reason.startsWith('going_away')).toBe(true);
      }
      expect(await exit).toEqual({ code: 0, signal: null });
      await expect(httpGet(`http://127.0.0.1:${s.port}/healthz`)).rejects.toThrow();
    },
  );
});

describe('uWebSockets.js fallback', () => {
  test('UWS_USE_FALLBACK=1: refuses to start, non-zero exit, says why (uws_fallback)', async () => {
    const s = spawnServer([...LOCAL, '--feed-token', 'fallback-token'], { UWS_USE_FALLBACK: '1' });
    const { code } = await s.exited;
    expect(code).not.toBe(0);
    expect(s.stderr()).toContain('uws_fallback');
    expect(s.stderr()).toMatch(/native binary/);
    expect(s.stdout()).not.toContain('tickwire listening on');
  });

  test('--allow-uws-fallback with UWS_USE_FALLBACK=1: starts, warns, /stats reports uws.native=false', async () => {
    const s = await start([...LOCAL, '--feed-token', 'fallback-token', '--allow-uws-fallback'], {
      UWS_USE_FALLBACK: '1',
    });
    expect(s.listeningLine).toBe(`tickwire listening on http://127.0.0.1:${s.port}`);
    expect(s.stderr()).toMatch(/fallback/i);
    const res = await httpGet(`http://127.0.0.1:${s.port}/stats`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).uws).toEqual({ native: false });
    expect((await httpGet(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    expect(await stopProcess(s)).toEqual({ code: 0, signal: null });
  });

  test('on the fallback, /readyz is 503 and WebSocket upgrades are refused without taking the process down', async () => {
    const s = await start([...LOCAL, '--feed-token', 'fallback-token', '--allow-uws-fallback'], {
      UWS_USE_FALLBACK: '1',
    });
    expect((await httpGet(`http://127.0.0.1:${s.port}/readyz`)).status).toBe(503);
    for (const path of ['/stream', '/feed?token=fallback-token']) {
      const outcome = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${s.port}${path}`);
        ws.on('open', () => {
          ws.terminate();
          resolve('open');
        });
        ws.on('unexpected-response', () => resolve('refused'));
        ws.on('error', () => resolve('refused'));
      });
      expect(outcome).toBe('refused');
    }
    // Still serving after the refused upgrades.
    expect((await httpGet(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    expect(await stopProcess(s)).toEqual({ code: 0, signal: null });
  });

  test('TICKWIRE_ALLOW_UWS_FALLBACK=true works like the flag', async () => {
    const s = await start([...LOCAL, '--feed-token', 'fallback-token'], {
      UWS_USE_FALLBACK: '1',
      TICKWIRE_ALLOW_UWS_FALLBACK: 'true',
    });
    const res = await httpGet(`http://127.0.0.1:${s.port}/stats`);
    expect(JSON.parse(res.body).uws).toEqual({ native: false });
    await stopProcess(s);
  });
});

describe('npm start', () => {
  test('builds and runs the server, printing the listening line', async () => {
    const child = spawn('npm', ['start', '--', ...LOCAL, '--feed-token', 'npm-start-token'], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: npm and node are stopped together
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const LINE = /^tickwire listening on http:\/\/127\.0\.0\.1:(\d+)$/m;
    try {
      await waitFor(
        () => LINE.test(out) || child.exitCode !== null,
        'the listening line from npm start',
        45_000,
      );
      expect(LINE.test(out), `npm start failed: ${err.slice(-1000)}`).toBe(true);
      const port = Number(LINE.exec(out)![1]);
      expect((await httpGet(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      process.kill(-child.pid!, 'SIGTERM');
      await withTimeout(exited, 10_000, 'npm start exit');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 60_000);
});

describe('bad options', () => {
  test.each([
    [['--port', '70000'], {}],
    [['--nope'], {}],
    [[], { TICKWIRE_PORT: 'eighty' }],
    [['--feed-token', ''], {}],
  ] as [string[], Record<string, string>][])(
    '%j %j: exits non-zero with a message',
    async (args, env) => {
      const s = spawnServer(['--host', '127.0.0.1', ...args], env);
      const { code } = await s.exited;
      expect(code).not.toBe(0);
      expect(s.stderr()).toMatch(/invalid_config/);
      expect(s.stdout()).not.toContain('tickwire listening on');
    },
  );
});
