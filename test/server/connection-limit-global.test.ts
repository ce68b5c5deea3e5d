/**
 * maxConnections: one more WebSocket than the limit, on any route (/feed,
 * /stream, /stats/stream), is refused at the upgrade with HTTP 503; a slot
 * is taken on open and given back on close, and refused or aborted upgrades
 * never hold one. Counted in /stats `refused.connections_global` and
 * /metrics.
 */
import { createConnection } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, connect, expectRefused, sleep, waitFor } from '../helpers/clients.js';
import { FEED_TOKEN, type TestServer, httpGet, startServer } from '../helpers/server.js';

const MAX = 3;
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxConnections: MAX, maxConnectionsPerIp: 0 });
});

afterAll(async () => {
  await ts.stop();
});

const auth = { headers: { authorization: `Bearer ${FEED_TOKEN}` } };

/** Sends a complete upgrade request on a raw socket and drops it at once. */
function abortedUpgrade(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          `Authorization: Bearer ${FEED_TOKEN}\r\n\r\n`,
      );
      s.destroy();
      resolve();
    });
    s.on('error', () => resolve());
  });
}

test('the connection over maxConnections is refused with 503 on every route; closing frees a slot', async () => {
  const open: TestClient[] = [
    await connect(ts.wsUrl('/feed'), auth),
    await connect(ts.wsUrl('/stream')),
    await connect(ts.wsUrl('/stats/stream')),
  ];
  expect(ts.server.admission.limits.total).toBe(MAX);

  for (const path of ['/feed', '/stream', '/stats/stream']) {
    const refused = await expectRefused(ts.wsUrl(path), auth);
    expect(refused.status).toBe(503);
    expect(refused.body.startsWith('unavailable')).toBe(true);
  }
  const stats = await ts.stats();
  expect(stats.refused).toMatchObject({ connections_global: 3, connections_per_ip: 0 });
  expect(stats.connections).toEqual({ feeds: 1, subscribers: 1 });

  // A subscriber leaves: its slot is given back, and a feed may take it.
  await open[1]!.close();
  await waitFor(() => ts.server.admission.limits.total === MAX - 1, 'the slot to be released');
  const feed = await connect(ts.wsUrl('/feed?ack=1'), auth);
  feed.sendPack({ s: 'CLG.A', p: 1 });
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 1 });
  open[1] = feed;
  expect((await expectRefused(ts.wsUrl('/stream'))).status).toBe(503);

  const metrics = await httpGet(ts.httpUrl('/metrics'));
  expect(metrics.body).toMatch(/^tickwire_connections_refused_total\{reason="global"\} 4$/m);

  await Promise.all(open.map((c) => c.close()));
  await waitFor(() => ts.server.admission.limits.total === 0, 'every slot to be released');
});

test('refused (401, 400) and aborted upgrades never hold a slot', async () => {
  for (let i = 0; i < 10; i++) {
    expect((await expectRefused(ts.wsUrl('/feed?token=wrong-token-x'))).status).toBe(401);
    expect((await expectRefused(ts.wsUrl('/stream?format=xml'))).status).toBe(400);
  }
  await Promise.all(Array.from({ length: 20 }, () => abortedUpgrade(ts.port, '/feed')));
  await sleep(200);
  await waitFor(() => ts.server.admission.limits.total === 0, 'no slot held');
  // All MAX slots are still free.
  const open = [
    await connect(ts.wsUrl('/stream')),
    await connect(ts.wsUrl('/stream')),
    await connect(ts.wsUrl('/feed'), auth),
  ];
  expect((await expectRefused(ts.wsUrl('/stream'))).status).toBe(503);
  await Promise.all(open.map((c) => c.close()));
  await waitFor(() => ts.server.admission.limits.total === 0, 'every slot to be released');
});

test('a server-side close (1009) releases the slot too', async () => {
  const open = [await connect(ts.wsUrl('/stream')), await connect(ts.wsUrl('/stream'))];
  const victim = await connect(ts.wsUrl('/stream'));
  victim.sendText('x'.repeat(20_000)); // over maxStreamFrame: the server closes it
  expect((await victim.waitClose()).code).toBe(1009);
  await waitFor(() => ts.server.admission.limits.total === MAX - 1, 'the slot to be released');
  open.push(await connect(ts.wsUrl('/stream')));
  await Promise.all(open.map((c) => c.close()));
});
