/**
 * Tokens are never printed (spawned process): with feed, stream and admin
 * tokens given, nothing the server writes to stdout or stderr, through
 * startup, accepted and refused connections, admin requests and SIGTERM,
 * contains any of them, nor a wrong token a client presented; an invalid
 * configuration is reported without echoing the tokens given next to it.
 * (Only a generated feed token is printed, once: process-lifecycle.test.ts.)
 */
import { request } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, expectRefused } from '../helpers/clients.js';
import {
  type RunningServer,
  ensureBuilt,
  spawnServer,
  startProcess,
  stopProcess,
} from '../helpers/process.js';

const FEED = 'secret-feed-Kx81QvT';
const STREAM = 'secret-stream-Pw3nZr';
const ADMIN = 'secret-admin-Hj5uLm';
const WRONG = 'wrong-token-Yb2tQa';
const SECRETS = [FEED, STREAM, ADMIN, WRONG];

let s: RunningServer | undefined;

beforeAll(() => {
  ensureBuilt();
}, 60_000);

afterAll(async () => {
  if (s !== undefined) await stopProcess(s, 'SIGKILL').catch(() => undefined);
});

function get(port: number, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { authorization: `Bearer ${token}` },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

test('given tokens are never written to stdout or stderr', async () => {
  s = await startProcess(['--host', '127.0.0.1', '--port', '0', '--feed-token', FEED], {
    TICKWIRE_STREAM_TOKEN: STREAM,
    TICKWIRE_ADMIN_TOKEN: ADMIN,
  });
  const port = s.port;
  const url = (path: string): string => `ws://127.0.0.1:${port}${path}`;

  const feed = await connect(url('/feed?ack=1'), { headers: { authorization: `Bearer ${FEED}` } });
  const feedQ = await connect(url(`/feed?ack=1&token=${FEED}`));
  const sub = await connect(url(`/stream?symbols=TS.A&token=${STREAM}`));
  await sub.nextOp('snapshot');
  feed.sendPack({ s: 'TS.A', p: 1 });
  await feed.nextOp('ack');
  feedQ.sendPack([{ s: 'TS.A', p: 2 }, { s: 'TS.A' }]);
  await feedQ.nextOp('ack');
  await sub.updates(2);

  for (const path of [`/feed?token=${WRONG}`, `/stream?token=${WRONG}`, `/stream?token=${FEED}`]) {
    expect((await expectRefused(url(path))).status).toBe(401);
  }
  expect(
    (await expectRefused(url('/feed'), { headers: { authorization: `Bearer ${WRONG}` } })).status,
  ).toBe(401);
  expect(await get(port, '/admin/loadtest', ADMIN)).toBe(200);
  expect(await get(port, '/admin/loadtest', WRONG)).toBe(401);

  const exit = await stopProcess(s);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(s.stdout()).toMatch(/^tickwire listening on /);
  expectNoSecret(s.stdout());
  expectNoSecret(s.stderr());
});

test('an invalid configuration is reported without the tokens given with it', async () => {
  const bad = spawnServer(
    ['--host', '127.0.0.1', '--port', '70000', '--feed-token', FEED, '--admin-token', ADMIN],
    { TICKWIRE_STREAM_TOKEN: STREAM },
  );
  const { code } = await bad.exited;
  expect(code).not.toBe(0);
  expect(bad.stderr()).toMatch(/invalid_config/);
  expectNoSecret(bad.stdout() + bad.stderr());

  // A token that is itself invalid (an admin token under 8 characters) is not
  // echoed either.
  const short = spawnServer(['--host', '127.0.0.1', '--port', '0', '--admin-token', 'Qz7#w']);
  expect((await short.exited).code).not.toBe(0);
  expect(short.stderr()).toMatch(/invalid_config/);
  expect(short.stdout() + short.stderr()).not.toContain('Qz7#w');
});
