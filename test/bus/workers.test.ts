/**
 * `--workers N --nats URL`: N processes on one port (SO_REUSEPORT), one
 * listening line, connections spread over the processes, a feed on one
 * process reaches subscribers on the others through NATS; SIGTERM stops
 * them all with exit code 0.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, connect, waitFor } from '../helpers/clients.js';
import { NatsServer, freePort, natsAvailable } from '../helpers/nats.js';
import { type RunningServer, ensureBuilt, startProcess, stopProcess } from '../helpers/process.js';
import { httpGet } from '../helpers/server.js';

describe.skipIf(!natsAvailable)('--workers', () => {
  let nats: NatsServer;
  let proc: RunningServer;
  let port: number;

  beforeAll(async () => {
    ensureBuilt();
    nats = await NatsServer.start();
    port = await freePort();
    proc = await startProcess([
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--feed-token',
      'workers-token-1',
      '--nats',
      nats.url,
      '--workers',
      '3',
    ]);
  }, 30_000);

  afterAll(async () => {
    if (proc !== undefined) await stopProcess(proc);
    await nats?.stop();
  });

  test('connections spread over several processes that share one sequence', async () => {
    const pids = new Set<number>();
    await waitFor(
      async () => {
        const res = await httpGet(`http://127.0.0.1:${port}/stats`);
        if (res.status === 200) pids.add((JSON.parse(res.body) as { pid: number }).pid);
        return pids.size === 3;
      },
      'three processes answering',
      20_000,
    );
    const subs: TestClient[] = [];
    for (let i = 0; i < 12; i++) {
      const s = await connect(`ws://127.0.0.1:${port}/stream?symbols=WK.A`);
      await s.nextOp('snapshot');
      subs.push(s);
    }
    await waitFor(
      async () => (await httpGet(`http://127.0.0.1:${port}/readyz`)).status === 200,
      'ready',
      20_000,
    );
    const feed = await connect(`ws://127.0.0.1:${port}/feed?ack=1`, {
      headers: { authorization: 'Bearer workers-token-1' },
    });
    feed.sendPack(Array.from({ length: 20 }, (_, i) => ({ s: 'WK.A', p: i })));
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 20 });
    for (const s of subs) {
      const got = await s.updates(20, 10_000);
      expect(got.map((u) => u.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  test('SIGTERM stops every process; exit code 0', async () => {
    const exit = await stopProcess(proc);
    expect(exit.code).toBe(0);
    await waitFor(
      async () =>
        (await httpGet(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)) === undefined,
      'port closed',
      10_000,
    );
  });
});

describe.skipIf(!natsAvailable)('--workers: the first process dies', () => {
  let nats: NatsServer;
  let proc: RunningServer | undefined;
  const workerPids = new Set<number>();

  beforeAll(async () => {
    ensureBuilt();
    nats = await NatsServer.start();
  }, 30_000);

  afterAll(async () => {
    for (const pid of workerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (proc !== undefined) await stopProcess(proc, 'SIGKILL');
    await nats?.stop();
  });

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  test('its workers exit instead of serving on alone', async () => {
    const port = await freePort();
    const p = await startProcess([
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--feed-token',
      'workers-token-2',
      '--nats',
      nats.url,
      '--workers',
      '3',
    ]);
    proc = p;
    const parent = p.child.pid!;
    await waitFor(
      async () => {
        const res = await httpGet(`http://127.0.0.1:${port}/stats`);
        if (res.status === 200) {
          const pid = (JSON.parse(res.body) as { pid: number }).pid;
          if (pid !== parent) workerPids.add(pid);
        }
        return workerPids.size === 2;
      },
      'both workers answering',
      20_000,
    );
    p.child.kill('SIGKILL');
    await p.exited;
    await waitFor(() => [...workerPids].every((pid) => !alive(pid)), 'workers gone', 15_000);
  }, 45_000);
});
