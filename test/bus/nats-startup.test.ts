/**
 * A node started while NATS is unreachable listens but is not ready
 * (/readyz 503, /stats bus.connected false); it connects by itself once NATS
 * appears, and /metrics reports the bus.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { NatsServer, freePort, natsAvailable } from '../helpers/nats.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('NATS bus: start-up without NATS', () => {
  let nats: NatsServer | undefined;
  let node: TestServer | undefined;

  afterAll(async () => {
    await node?.stop();
    await nats?.stop();
  });

  test('not ready until NATS is there, then ready without a restart', async () => {
    const port = await freePort();
    node = await startServer({ nats: `nats://127.0.0.1:${port}` });
    const n = node;
    expect((await httpGet(n.httpUrl('/healthz'))).status).toBe(200);
    expect((await httpGet(n.httpUrl('/readyz'))).status).toBe(503);
    expect((await n.stats()).bus).toMatchObject({ kind: 'nats', connected: false });

    nats = await NatsServer.start(port);
    await waitFor(
      async () => (await httpGet(n.httpUrl('/readyz'))).status === 200,
      'ready once NATS is up',
      15_000,
    );
    const feed = await n.feed('ack=1');
    feed.sendPack({ s: 'NS.A', p: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 1 });
    const metrics = (await httpGet(n.httpUrl('/metrics'))).body;
    expect(metrics).toMatch(/^tickwire_bus_connected 1$/m);
    expect(metrics).toMatch(/^tickwire_bus_ticks_stored_total 1$/m);
    expect(metrics).toMatch(/^tickwire_bus_pending_ticks 0$/m);
  });
});
