/**
 * The admin load-test routes: 503 without an admin token, 401 with a wrong
 * or missing one, 400 for out-of-range parameters, 202 + run id, 409 while
 * running (its subscribers on the load test's own app, not on /stream), and
 * a result once done.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { type LoadTestStatus, parseLoadTestParams } from '../../src/server/load-test.js';
import { type TestServer, startServer } from '../helpers/server.js';

const ADMIN = 'admin-token-456';

function post(ts: TestServer, body: unknown, token?: string): Promise<Response> {
  return fetch(ts.httpUrl('/admin/loadtest'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
}

function get(ts: TestServer, token?: string): Promise<Response> {
  return fetch(ts.httpUrl('/admin/loadtest'), {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

describe('config', () => {
  test('--admin-token / TICKWIRE_ADMIN_TOKEN, at least 8 characters', () => {
    expect(buildConfig({ adminToken: 'abcdefgh' }).adminToken).toBe('abcdefgh');
    expect(buildConfig({}).adminToken).toBeUndefined();
    expect(() => buildConfig({ adminToken: 'short' })).toThrow(/at least 8/);
  });

  test('parameters are validated against the caps', () => {
    expect(parseLoadTestParams({})).toEqual({
      rate: 10_000,
      symbols: 100,
      subscribers: 10,
      duration: 5,
    });
    expect(parseLoadTestParams({ rate: 50_001 })).toMatch(/rate/);
    expect(parseLoadTestParams({ symbols: 1001 })).toMatch(/symbols/);
    expect(parseLoadTestParams({ subscribers: 101 })).toMatch(/subscribers/);
    expect(parseLoadTestParams({ duration: 31 })).toMatch(/duration/);
    expect(parseLoadTestParams({ duration: 1.5 })).toMatch(/duration/);
    expect(parseLoadTestParams([])).toMatch(/object/);
  });
});

describe('without an admin token', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startServer();
  });
  afterAll(() => ts.stop());

  test('POST and GET answer 503 admin_disabled', async () => {
    for (const res of [await post(ts, {}, 'anything-at-all'), await get(ts)]) {
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'admin_disabled' });
    }
  });
});

describe('with an admin token', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startServer({ adminToken: ADMIN });
  });
  afterAll(() => ts.stop());

  test('a missing or wrong token: 401', async () => {
    for (const res of [
      await post(ts, {}),
      await post(ts, {}, 'wrong-token-789'),
      await get(ts),
      await get(ts, 'wrong-token-789'),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
  });

  test('GET before any run: idle', async () => {
    const res = await get(ts, ADMIN);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ state: 'idle' });
  });

  test('out-of-range parameters or a non-JSON body: 400', async () => {
    expect((await post(ts, { rate: 1_000_000 }, ADMIN)).status).toBe(400);
    const res = await fetch(ts.httpUrl('/admin/loadtest'), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
      body: '{nope',
    });
    expect(res.status).toBe(400);
  });

  test('a run: 202 with an id, 409 while running, then a result', async () => {
    const params = { rate: 2000, symbols: 20, subscribers: 3, duration: 1 };
    const res = await post(ts, params, ADMIN);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await post(ts, params, ADMIN)).status).toBe(409);
    // Its subscribers are on the load test's own app: no /stream connection.
    await expect.poll(() => ts.server.loadTester.connections).toBe(3);
    expect((await ts.stats()).connections.subscribers).toBe(0);
    let status: Partial<LoadTestStatus> = {};
    await expect
      .poll(
        async () => {
          status = (await (await get(ts, ADMIN)).json()) as Partial<LoadTestStatus>;
          return status.state;
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe('done');
    expect(status).toMatchObject({ id, params });
    const r = status.result!;
    expect(r.ticks).toBeGreaterThan(0);
    expect(r.ticks_per_s).toBeGreaterThan(0);
    // Every tick reaches the 3 subscribers on "*" (one message per frame).
    expect(r.deliveries).toBeGreaterThan(0);
    expect(r.messages_received).toBeGreaterThan(0);
    expect(r.latency_us.p50).toBeGreaterThan(0);
    expect(r.latency_us.p99).toBeGreaterThanOrEqual(r.latency_us.p50);
    // The in-process subscribers are gone afterwards.
    await expect.poll(() => ts.server.loadTester.connections).toBe(0);
  });
});
