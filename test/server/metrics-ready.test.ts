/**
 * tickwire_ready mirrors /readyz: 1 on a node that listens, 0 on one whose
 * NATS bus is not connected (an address nothing listens on: no nats-server
 * needed), and 0 once shutdown has begun.
 */
import { afterAll, expect, test } from 'vitest';
import { freePort } from '../helpers/nats.js';
import { KeepAliveHttp, type TestServer, httpGet, readyz, startServer } from '../helpers/server.js';

const started: TestServer[] = [];

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function readyMetric(ts: TestServer): Promise<string | undefined> {
  const body = (await httpGet(ts.httpUrl('/metrics'))).body;
  return /^tickwire_ready (\S+)$/m.exec(body)?.[1];
}

test('a listening node: 1, as /readyz answers 200', async () => {
  const ts = await startServer();
  started.push(ts);
  expect(await readyz(ts)).toBe(200);
  expect(await readyMetric(ts)).toBe('1');
});

test('NATS unreachable: 0, as /readyz answers 503', async () => {
  const ts = await startServer({ nats: `nats://127.0.0.1:${await freePort()}` });
  started.push(ts);
  expect(await readyz(ts)).toBe(503);
  expect(await readyMetric(ts)).toBe('0');
});

test('shutting down: 0', async () => {
  const ts = await startServer();
  const http = await KeepAliveHttp.open(ts.port);
  const stopping = ts.server.stop();
  const body = (await http.get('/metrics')).body;
  expect(/^tickwire_ready (\S+)$/m.exec(body)?.[1]).toBe('0');
  http.close();
  await stopping;
});
