/**
 * /feed authentication: the feed token as `Authorization: Bearer` or
 * `?token=`; a wrong or missing token refuses the upgrade with HTTP 401 and
 * no WebSocket opens.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, connect, expectRefused } from '../helpers/clients.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await ts.stop();
});

/** Proves a feed connection works end to end: a tick is acked as accepted. */
async function expectWorkingFeed(feed: TestClient, symbol: string): Promise<void> {
  feed.sendPack({ s: symbol, p: 1 });
  expect(await feed.nextOp('ack')).toEqual({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
}

describe('accepted tokens', () => {
  test('Authorization: Bearer header', async () => {
    const feed = await connect(ts.wsUrl('/feed?ack=1'), {
      headers: { authorization: `Bearer ${FEED_TOKEN}` },
    });
    clients.push(feed);
    await expectWorkingFeed(feed, 'AUTH.HDR');
  });

  test('the Bearer scheme name is case-insensitive', async () => {
    const feed = await connect(ts.wsUrl('/feed?ack=1'), {
      headers: { authorization: `bearer ${FEED_TOKEN}` },
    });
    clients.push(feed);
    await expectWorkingFeed(feed, 'AUTH.LOWER');
  });

  test('?token= query parameter', async () => {
    const feed = await connect(ts.wsUrl(`/feed?token=${encodeURIComponent(FEED_TOKEN)}&ack=1`));
    clients.push(feed);
    await expectWorkingFeed(feed, 'AUTH.QUERY');
  });
});

describe('refused upgrades', () => {
  const cases: [string, string, Record<string, string>][] = [
    ['no token at all', '/feed', {}],
    ['wrong Bearer token', '/feed', { authorization: 'Bearer not-the-token' }],
    ['Bearer with the token only as a prefix', '/feed', { authorization: `Bearer ${FEED_TOKEN}x` }],
    ['empty Bearer token', '/feed', { authorization: 'Bearer ' }],
    ['token without the Bearer scheme', '/feed', { authorization: FEED_TOKEN }],
    [
      'Basic auth',
      '/feed',
      { authorization: `Basic ${Buffer.from(`u:${FEED_TOKEN}`).toString('base64')}` },
    ],
    ['wrong ?token=', '/feed?token=not-the-token', {}],
    ['empty ?token=', '/feed?token=', {}],
    ['token with different case', `/feed?token=${FEED_TOKEN.toUpperCase()}`, {}],
  ];

  test.each(cases)('%s: HTTP 401 "unauthorized…", no WebSocket', async (_name, path, headers) => {
    const refusal = await expectRefused(ts.wsUrl(path), { headers });
    expect(refusal.status).toBe(401);
    expect(refusal.body.startsWith('unauthorized')).toBe(true);
  });

  test('refused upgrades never count as feed connections', async () => {
    const before = (await ts.stats()).connections.feeds;
    await Promise.all([
      expectRefused(ts.wsUrl('/feed')),
      expectRefused(ts.wsUrl('/feed?token=wrong-token')),
    ]);
    expect((await ts.stats()).connections.feeds).toBe(before);
    expect(ts.server.connections.feeds).toBe(before);
  });

  test('a stream client cannot push ticks by connecting to /stream instead', async () => {
    // /stream has no token here; what it receives on the wire are control
    // messages, and a tick-shaped map is answered bad_request, never published.
    const sub = await ts.stream('symbols=AUTH.SNEAK');
    clients.push(sub);
    await sub.nextOp('snapshot');
    const other = await ts.stream();
    clients.push(other);
    other.sendPack({ s: 'AUTH.SNEAK', p: 1 });
    expect(await other.nextData()).toMatchObject({ op: 'error', code: 'bad_request' });
    await sub.expectNone(200);
  });
});
