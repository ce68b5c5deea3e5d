/**
 * The last-resort guard (src/server/guard.ts): an exception thrown inside a
 * uWS handler closes only the connection it happened on, with 1011 and a
 * reason starting with internal_error (an HTTP request gets 500), is
 * counted in tickwire_handler_errors_total{route,handler}, is logged once
 * per cause however often it happens, and everyone else keeps being served.
 *
 * No real input is known to throw any more, so the exceptions are injected
 * by replacing one method of the running server's objects for one call
 * (vi.spyOn): a test-only seam that does not exist in production code.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { CloseCode, ErrorCode } from '../../src/protocol/codes.js';
import { type TestClient, UpgradeRefused, connect } from '../helpers/clients.js';
import { rawExchange } from '../helpers/raw-http.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;
let bystander: TestClient;
let price = 0;
let logged: string[] = [];

beforeAll(async () => {
  ts = await startServer();
  feed = await ts.feed();
  bystander = await ts.stream('symbols=GUARD.A');
  await bystander.nextOp('snapshot');
});

afterAll(async () => {
  await ts.stop();
});

beforeEach(() => {
  captureStderr();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Captures (and keeps out of the test output) what the server writes to stderr. */
function captureStderr(): void {
  logged = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logged.push(String(chunk));
    return true;
  });
}

/** Makes the next call of `object[method]` throw. */
function throwOnce(object: object, method: string): void {
  const target = object as Record<string, (...args: unknown[]) => unknown>;
  vi.spyOn(target, method).mockImplementationOnce(() => {
    throw new Error(`injected into ${method}`);
  });
}

/** tickwire_handler_errors_total for one route and handler (undefined: no such series). */
async function handlerErrors(route: string, handler: string): Promise<number | undefined> {
  const text = (await httpGet(ts.httpUrl('/metrics'))).body;
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`tickwire_handler_errors_total{route="${route}",handler="${handler}"}`),
    );
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** The bystander, and a fresh feed's ticks, are still served. */
async function expectOthersServed(from: TestClient = feed): Promise<void> {
  const p = ++price;
  from.sendPack({ s: 'GUARD.A', p });
  expect((await bystander.update()).p).toBe(p);
}

function expectInternalErrorClose(close: { code: number; reason: string }): void {
  expect(close.code).toBe(CloseCode.InternalError);
  expect(close.reason.startsWith(`${ErrorCode.InternalError}:`)).toBe(true);
}

test('every guarded handler has a counter from the start', async () => {
  expect(await handlerErrors('/stream', 'message')).toBe(0);
  expect(await handlerErrors('/feed', 'message')).toBe(0);
  expect(await handlerErrors('/stats/stream', 'open')).toBe(0);
  expect(await handlerErrors('GET /stats', 'request')).toBe(0);
});

test('/stream message: only that connection is closed (1011), counted, logged once per cause', async () => {
  const before = (await handlerErrors('/stream', 'message')) ?? 0;
  for (let i = 0; i < 3; i++) {
    const victim = await ts.stream();
    throwOnce(ts.server.pipeline, 'snapshot');
    victim.sendPack({ op: 'subscribe', symbols: ['GUARD.A'] });
    expectInternalErrorClose(await victim.waitClose());
    await expectOthersServed();
  }
  expect(await handlerErrors('/stream', 'message')).toBe(before + 3);
  expect(logged.filter((l) => l.includes('/stream message')).length).toBe(1);
  // A new connection is served as usual.
  const next = await ts.stream();
  await ts.subscribe(next, ['GUARD.A']);
  await next.close();
});

test('/stream open: the new connection is closed (1011) and counted', async () => {
  const before = (await handlerErrors('/stream', 'open')) ?? 0;
  throwOnce(ts.server.pipeline, 'snapshot');
  const victim = await ts.stream('symbols=GUARD.A');
  expectInternalErrorClose(await victim.waitClose());
  expect(await handlerErrors('/stream', 'open')).toBe(before + 1);
  await expectOthersServed();
});

test('/feed message: only that feed is closed (1011); another feed keeps publishing', async () => {
  const before = (await handlerErrors('/feed', 'message')) ?? 0;
  const victim = await ts.feed();
  throwOnce(ts.server.pipeline, 'process');
  victim.sendPack({ s: 'GUARD.A', p: 1 });
  expectInternalErrorClose(await victim.waitClose());
  expect(await handlerErrors('/feed', 'message')).toBe(before + 1);
  await expectOthersServed();
  const other = await ts.feed();
  await expectOthersServed(other);
  await other.close();
});

test('an upgrade handler that throws answers HTTP 500 and is counted', async () => {
  const before = (await handlerErrors('/stream', 'upgrade')) ?? 0;
  throwOnce(ts.server.admission, 'admit');
  const refused = await connect(ts.wsUrl('/stream')).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(refused).toBeInstanceOf(UpgradeRefused);
  expect((refused as UpgradeRefused).status).toBe(500);
  expect(await handlerErrors('/stream', 'upgrade')).toBe(before + 1);
  await expectOthersServed();
});

test('a HEAD whose handler throws gets a 500 head without a body; the connection stays in step', async () => {
  vi.spyOn(ts.server, 'ready', 'get').mockImplementationOnce(() => {
    throw new Error('injected into ready (HEAD)');
  });
  const host = 'Host: 127.0.0.1\r\n';
  const ex = await rawExchange(
    ts.port,
    `HEAD /readyz HTTP/1.1\r\n${host}\r\nGET /readyz HTTP/1.1\r\n${host}\r\n`,
    { responses: 2, heads: 1 },
  );
  expect(ex.responses.map((r) => r.status)).toEqual([500, 200]);
  expect(Number(ex.responses[0]!.headers['content-length'])).toBeGreaterThan(0);
  expect(ex.rest).toBe('');
});

test('an HTTP handler that throws answers 500 and is counted; the next request is served', async () => {
  const before = (await handlerErrors('GET /readyz', 'request')) ?? 0;
  vi.spyOn(ts.server, 'ready', 'get').mockImplementationOnce(() => {
    throw new Error('injected into ready');
  });
  const res = await httpGet(ts.httpUrl('/readyz'));
  expect(res.status).toBe(500);
  expect(res.body.startsWith(`${ErrorCode.InternalError}:`)).toBe(true);
  expect((await httpGet(ts.httpUrl('/readyz'))).status).toBe(200);
  expect(await handlerErrors('GET /readyz', 'request')).toBe(before + 1);
  await expectOthersServed();
});
