/**
 * allowedOrigins: a /stream or /stats/stream upgrade whose Origin header is
 * not on the list is refused with HTTP 403 (body `unauthorized…`); listed
 * origins and requests without an Origin header (non-browser clients) are
 * accepted; /feed ignores Origin. Counted in /stats `refused.origin`.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, expectRefused } from '../helpers/clients.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

const ALLOWED = 'https://dash.example.com';
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ allowedOrigins: `${ALLOWED}, http://localhost:8080` });
});

afterAll(async () => {
  await ts.stop();
});

const from = (origin: string): { headers: Record<string, string> } => ({ headers: { origin } });

test('Origin allow-list on /stream and /stats/stream', async () => {
  for (const path of ['/stream', '/stats/stream']) {
    for (const origin of ['https://evil.example.com', 'http://dash.example.com', 'null']) {
      const refused = await expectRefused(ts.wsUrl(path), from(origin));
      expect(refused.status).toBe(403);
      expect(refused.body.startsWith('unauthorized')).toBe(true);
    }
    for (const origin of [ALLOWED, 'http://localhost:8080', 'HTTPS://DASH.EXAMPLE.COM']) {
      await (await connect(ts.wsUrl(path), from(origin))).close();
    }
    // No Origin header: a non-browser client.
    await (await connect(ts.wsUrl(path))).close();
  }
  const sub = await connect(ts.wsUrl('/stream?symbols=OR.A'), from(ALLOWED));
  expect(await sub.nextOp('subscribed')).toEqual({
    op: 'subscribed',
    symbols: ['OR.A'],
    epoch: expect.any(String),
  });
  await sub.close();

  // /feed does not look at Origin.
  const feed = await connect(ts.wsUrl('/feed?ack=1'), {
    headers: { authorization: `Bearer ${FEED_TOKEN}`, origin: 'https://evil.example.com' },
  });
  feed.sendPack({ s: 'OR.A', p: 1 });
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 1 });
  await feed.close();

  expect((await ts.stats()).refused).toMatchObject({ origin: 6 });
});

test('the origin check comes before the token check', async () => {
  const guarded = await startServer({ allowedOrigins: ALLOWED, streamToken: 'stream-token-1' });
  try {
    expect(
      (await expectRefused(guarded.wsUrl('/stream'), from('https://evil.example.com'))).status,
    ).toBe(403);
    expect((await expectRefused(guarded.wsUrl('/stream'), from(ALLOWED))).status).toBe(401);
    await (await connect(guarded.wsUrl('/stream?token=stream-token-1'), from(ALLOWED))).close();
  } finally {
    await guarded.stop();
  }
});
