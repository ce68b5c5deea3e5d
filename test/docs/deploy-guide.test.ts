/**
 * docs/deploy.md names only what exists: every `--flag` is a server option
 * (or belongs to one of the other tools the guide runs, listed below),
 * every TICKWIRE_ variable is an option's, and every path in backticks is
 * a route the server serves (HTTP routes answer GET with anything but 404;
 * WebSocket routes accept an upgrade).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { OPTIONS } from '../../src/config.js';
import { FEED_TOKEN, type TestServer, httpGet, startServer } from '../helpers/server.js';

const GUIDE = readFileSync('docs/deploy.md', 'utf8');

/** Flags of other programs in the guide: npm, useradd, systemctl, docker, wget. */
const OTHER_TOOLS = new Set([
  ...['omit', 'system', 'home', 'shell', 'now', 'ulimit', 'spider'],
  ...['stop-timeout', 'build-arg'], // docker
]);
/** Server flags handled outside OPTIONS. */
const EXTRA_FLAGS = new Set(['help', 'config']);
const WS_ROUTES = new Set(['/feed', '/stream', '/stats/stream']);

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ adminToken: 'deploy-guide-admin' });
});

afterAll(async () => {
  await ts.stop();
});

test('every --flag is a server option (or another tool’s)', () => {
  const flags = new Set([...GUIDE.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
  const known = new Set([...OPTIONS.map((o) => o.flag), ...EXTRA_FLAGS, ...OTHER_TOOLS]);
  expect(flags.size).toBeGreaterThan(5);
  expect([...flags].filter((f) => !known.has(f))).toEqual([]);
});

test('every TICKWIRE_ variable is an option’s', () => {
  const vars = new Set([...GUIDE.matchAll(/\bTICKWIRE_[A-Z][A-Z0-9_]*/g)].map((m) => m[0]));
  const known = new Set(OPTIONS.map((o) => o.env));
  expect(vars.size).toBeGreaterThan(3);
  expect([...vars].filter((v) => !known.has(v))).toEqual([]);
});

/** Opens a WebSocket on `path` (feeds with the token); resolves whether it opened. */
function upgrades(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(ts.wsUrl(path), {
      headers: path === '/feed' ? { authorization: `Bearer ${FEED_TOKEN}` } : {},
    });
    ws.on('open', () => {
      ws.close();
      resolve(true);
    });
    ws.on('error', () => resolve(false));
  });
}

test('every route in backticks is served', async () => {
  const paths = new Set(
    [...GUIDE.matchAll(/`(\/[a-z/]*)`/g)].map((m) => m[1]!).filter((p) => !p.startsWith('/usr/')),
  );
  expect(paths.size).toBeGreaterThan(5);
  for (const path of paths) {
    if (WS_ROUTES.has(path)) expect(await upgrades(path), path).toBe(true);
    else expect((await httpGet(ts.httpUrl(path))).status, path).not.toBe(404);
  }
});
