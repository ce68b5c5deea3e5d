/**
 * /stream upgrades: with a stream token configured it is required (header or
 * query); without one subscribing is open. A bad ?format is HTTP 400; an
 * unknown WebSocket path is 404.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, expectRefused } from '../helpers/clients.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

const STREAM_TOKEN = 'stream-token-456';

describe('with a stream token', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startServer({ streamToken: STREAM_TOKEN });
  });

  afterAll(async () => {
    await ts.stop();
  });

  test('Authorization: Bearer header is accepted', async () => {
    const sub = await connect(ts.wsUrl('/stream?symbols=SA.A'), {
      headers: { authorization: `Bearer ${STREAM_TOKEN}` },
    });
    expect(await sub.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['SA.A'],
      epoch: expect.any(String),
    });
    await sub.close();
  });

  test('?token= is accepted', async () => {
    const sub = await connect(ts.wsUrl(`/stream?token=${STREAM_TOKEN}&symbols=SA.A&format=json`));
    const m = await sub.next();
    expect(m.binary).toBe(false);
    expect(m.data).toEqual({ op: 'subscribed', symbols: ['SA.A'], epoch: expect.any(String) });
    await sub.close();
  });

  test('updates flow to an authenticated subscriber', async () => {
    const sub = await connect(ts.wsUrl(`/stream?token=${STREAM_TOKEN}&symbols=SA.B`));
    await sub.nextOp('snapshot');
    const feed = await ts.feed();
    feed.sendPack({ s: 'SA.B', p: 1 });
    expect(await sub.update()).toMatchObject({ s: 'SA.B', n: 1 });
    await sub.close();
  });

  test.each<[string, string, Record<string, string>]>([
    ['no token', '/stream', {}],
    ['no token, with symbols', '/stream?symbols=SA.A', {}],
    ['wrong query token', '/stream?token=wrong-token', {}],
    ['wrong Bearer token', '/stream', { authorization: 'Bearer wrong-token' }],
    ['the feed token', `/stream?token=${FEED_TOKEN}`, {}],
    ['the feed token as Bearer', '/stream', { authorization: `Bearer ${FEED_TOKEN}` }],
  ])('%s: HTTP 401, no WebSocket', async (_name, path, headers) => {
    const before = ts.server.connections.subscribers;
    const refusal = await expectRefused(ts.wsUrl(path), { headers });
    expect(refusal.status).toBe(401);
    expect(refusal.body.startsWith('unauthorized')).toBe(true);
    expect(ts.server.connections.subscribers).toBe(before);
  });

  test('the stream token does not open /feed', async () => {
    expect((await expectRefused(ts.wsUrl(`/feed?token=${STREAM_TOKEN}`))).status).toBe(401);
  });
});

describe('without a stream token', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startServer();
  });

  afterAll(async () => {
    await ts.stop();
  });

  test('anyone may subscribe; a token presented anyway is ignored', async () => {
    const plain = await connect(ts.wsUrl('/stream?symbols=SA.OPEN'));
    expect(await plain.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['SA.OPEN'],
      epoch: expect.any(String),
    });
    const withToken = await connect(ts.wsUrl('/stream?symbols=SA.OPEN&token=whatever-1'), {
      headers: { authorization: 'Bearer whatever-2' },
    });
    expect(await withToken.nextData()).toEqual({
      op: 'subscribed',
      symbols: ['SA.OPEN'],
      epoch: expect.any(String),
    });
    await Promise.all([plain.close(), withToken.close()]);
  });

  test.each(['xml', 'JSON', 'msgpack2', ''])(
    '?format=%s: HTTP 400, no WebSocket',
    async (format) => {
      const refusal = await expectRefused(ts.wsUrl(`/stream?format=${format}`));
      expect(refusal.status).toBe(400);
      expect(refusal.body.startsWith('bad_request')).toBe(true);
      expect(ts.server.connections.subscribers).toBe(0);
    },
  );

  test('an unknown WebSocket path: HTTP 404', async () => {
    expect((await expectRefused(ts.wsUrl('/nope'))).status).toBe(404);
    expect((await expectRefused(ts.wsUrl('/streams'))).status).toBe(404);
  });
});
