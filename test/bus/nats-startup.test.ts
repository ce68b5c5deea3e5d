/**
 * A node started while NATS is unreachable listens but is not ready
 * (/readyz 503, /stats bus.connected false); it connects by itself once NATS
 * appears, and /metrics reports the bus. When the stream cannot be made
 * (another stream already captures the tick subjects) it keeps retrying
 * without leaving anything behind per attempt.
 */
import { connect as natsConnect } from 'nats';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { sleep, waitFor } from '../helpers/clients.js';
import { NatsServer, freePort, natsAvailable } from '../helpers/nats.js';
import { type TestServer, httpGet, readyz, startServer } from '../helpers/server.js';

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
    expect(await readyz(n)).toBe(503);
    expect((await n.stats()).bus).toMatchObject({ kind: 'nats', connected: false });

    nats = await NatsServer.start(port);
    await waitFor(async () => (await readyz(n)) === 200, 'ready once NATS is up', 15_000);
    const feed = await n.feed('ack=1');
    feed.sendPack({ s: 'NS.A', p: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 1 });
    const metrics = (await httpGet(n.httpUrl('/metrics'))).body;
    expect(metrics).toMatch(/^tickwire_bus_connected 1$/m);
    expect(metrics).toMatch(/^tickwire_bus_ticks_stored_total 1$/m);
    expect(metrics).toMatch(/^tickwire_bus_pending_ticks 0$/m);
  });
});

describe.skipIf(!natsAvailable)('NATS bus: start-up while the stream cannot be made', () => {
  let nats: NatsServer | undefined;
  let node: TestServer | undefined;

  afterAll(async () => {
    vi.restoreAllMocks();
    await node?.stop();
    await nats?.stop();
  });

  test('failed attempts leave no append sweeper behind; ready once the stream can be made', async () => {
    // Watch (not replace) interval timers: which ones the appender starts
    // and whether they are ever cleared.
    const sweeps = new Set<unknown>();
    const setInterval = globalThis.setInterval;
    const clearInterval = globalThis.clearInterval;
    vi.spyOn(globalThis, 'setInterval').mockImplementation(
      (fn: () => void, ms?: number): NodeJS.Timeout => {
        const t = setInterval(fn, ms);
        if (new Error().stack?.includes('jetstream-appender') === true) sweeps.add(t);
        return t;
      },
    );
    vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t?: NodeJS.Timeout) => {
      sweeps.delete(t);
      clearInterval(t);
    }) as typeof globalThis.clearInterval);

    nats = await NatsServer.start();
    const nc = await natsConnect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    // Another stream already captures tickwire's subjects: TICKWIRE cannot be made.
    await jsm.streams.add({ name: 'SQUATTER', subjects: ['tickwire.>'] });
    node = await startServer({ nats: nats.url });
    const n = node;
    await sleep(3500); // several start attempts, one a second
    expect(await readyz(n)).toBe(503);
    expect(sweeps.size).toBe(0);

    await jsm.streams.delete('SQUATTER');
    await nc.close();
    await waitFor(
      async () => (await readyz(n)) === 200,
      'ready once the stream can be made',
      15_000,
    );
    expect(sweeps.size).toBe(1);
  });
});
