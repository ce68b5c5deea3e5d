/**
 * Graceful stop (in process): /readyz answers 503 as soon as stop() begins,
 * /healthz keeps answering, every WebSocket is closed with 1001 and a reason
 * starting "going_away", and no new connection is accepted.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect } from '../helpers/clients.js';
import { KeepAliveHttp, type TestServer, httpGet, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.server.stop();
});

test('stop(): readyz 503 at once, sockets closed 1001 going_away, listener closed', async () => {
  const sub = await ts.stream('symbols=*');
  const json = await ts.stream('symbols=SD.A&format=json');
  const feed = await ts.feed('ack=1');
  await sub.nextOp('snapshot');
  await json.nextOp('snapshot');
  feed.sendPack({ s: 'SD.A', p: 1 });
  await feed.nextOp('ack');
  await sub.updates(1);

  const http = await KeepAliveHttp.open(ts.port);
  expect((await http.get('/readyz')).status).toBe(200);
  expect((await http.get('/healthz')).status).toBe(200);

  const stopping = ts.server.stop(); // not awaited: query while it runs
  expect(ts.server.ready).toBe(false);
  const ready = await http.get('/readyz');
  expect(ready.status).toBe(503);
  expect((await http.get('/healthz')).status).toBe(200);

  for (const client of [sub, json, feed]) {
    const close = await client.waitClose();
    expect(close.code).toBe(1001);
    expect(close.reason.startsWith('going_away')).toBe(true);
  }
  await stopping;
  http.close();

  // The listen socket is closed: no new HTTP or WebSocket connections.
  await expect(httpGet(ts.httpUrl('/healthz'))).rejects.toThrow();
  await expect(connect(ts.wsUrl('/stream'), { timeoutMs: 2000 })).rejects.toThrow();
  expect(ts.server.sockets.size).toBe(0);
  expect(ts.server.connections).toMatchObject({ feeds: 0, subscribers: 0 });
});

test('stop() a second time is harmless', async () => {
  await ts.server.stop();
});
