/**
 * maxConnectionsPerIp: one more WebSocket from the same remote address than
 * the limit is refused at the upgrade with HTTP 429 (body `rate_limited…`),
 * on every route; other addresses are not affected, and a close gives the
 * address its slot back. Counted in /stats `refused.connections_per_ip`.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TestClient, connect, expectRefused, waitFor } from '../helpers/clients.js';
import { FEED_TOKEN, type TestServer, httpGet, startServer } from '../helpers/server.js';

const PER_IP = 2;
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxConnections: 0, maxConnectionsPerIp: PER_IP });
});

afterAll(async () => {
  await ts.stop();
});

const auth = { headers: { authorization: `Bearer ${FEED_TOKEN}` } };

/** Opens a WebSocket from another loopback address (Linux routes all of 127/8 locally). */
function connectFrom(localAddress: string, url: string): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
    const client = new TestClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('the third connection from one address gets 429 on every route; others are unaffected', async () => {
  const mine = [await connect(ts.wsUrl('/stream')), await connect(ts.wsUrl('/feed'), auth)];
  for (const path of ['/feed', '/stream', '/stats/stream']) {
    const refused = await expectRefused(ts.wsUrl(path), auth);
    expect(refused.status).toBe(429);
    expect(refused.body.startsWith('rate_limited')).toBe(true);
  }
  // Another address has its own allowance.
  const other = [
    await connectFrom('127.0.0.2', ts.wsUrl('/stream')),
    await connectFrom('127.0.0.2', ts.wsUrl('/stats/stream')),
  ];
  expect(ts.server.admission.limits.countFor('127.0.0.1')).toBe(PER_IP);
  expect(ts.server.admission.limits.countFor('127.0.0.2')).toBe(PER_IP);

  const stats = await ts.stats();
  expect(stats.refused).toMatchObject({ connections_per_ip: 3, connections_global: 0 });
  const metrics = await httpGet(ts.httpUrl('/metrics'));
  expect(metrics.body).toMatch(/^tickwire_connections_refused_total\{reason="per_ip"\} 3$/m);

  // A close gives the address its slot back.
  await mine[0]!.close();
  await waitFor(
    () => ts.server.admission.limits.countFor('127.0.0.1') === PER_IP - 1,
    'the slot to be released',
  );
  mine[0] = await connect(ts.wsUrl('/stream'));
  expect((await expectRefused(ts.wsUrl('/stream'))).status).toBe(429);

  await Promise.all([...mine, ...other].map((c) => c.close()));
  await waitFor(() => ts.server.admission.limits.total === 0, 'every slot to be released');
  expect(ts.server.admission.limits.addresses).toBe(0);
});
