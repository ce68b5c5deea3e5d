/**
 * The load test's synthetic traffic lives in its own namespace: while runs
 * with `symbols: 1` (AAPL only) and `symbols: 60` (every demo name and more)
 * go on, a real subscriber on AAPL and one on "*" receive no synthetic tick;
 * AAPL's numbering, history and snapshot, the /stats counters, the latency
 * window, the fan-out count and the /metrics counters are what they were;
 * and the run's own result still counts its deliveries.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { LoadTestParams, LoadTestStatus } from '../../src/server/load-test.js';
import { type TestClient, type Update, unpack } from '../helpers/clients.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const ADMIN = 'admin-token-isolation';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ adminToken: ADMIN, history: 16 });
});
afterAll(() => ts.stop());

async function runLoadTest(params: LoadTestParams): Promise<LoadTestStatus> {
  const res = await fetch(ts.httpUrl('/admin/loadtest'), {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  let status: Partial<LoadTestStatus> = {};
  await expect
    .poll(
      async () => {
        const r = await fetch(ts.httpUrl('/admin/loadtest'), {
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        status = (await r.json()) as Partial<LoadTestStatus>;
        return status.id === id ? status.state : undefined;
      },
      { timeout: 10_000, interval: 100 },
    )
    .toBe('done');
  return status as LoadTestStatus;
}

/** The server-wide figures a load test must leave alone. */
async function figures(): Promise<unknown> {
  const s = await ts.stats();
  const metrics = (await httpGet(ts.httpUrl('/metrics'))).body
    .split('\n')
    .filter((l) =>
      /^tickwire_(ticks_|frames_|symbols|pipeline_latency|updates_dropped|slow_consumers_)/.test(l),
    );
  return {
    ticks: s.ticks,
    frames: s.frames,
    symbols: s.symbols,
    latency: s.latency_us,
    deliveries: ts.server.publisher.deliveries,
    metrics,
  };
}

/** Every update a client has received so far, in order. */
function updatesSeen(c: TestClient): Update[] {
  const out: Update[] = [];
  for (const m of c.history) {
    const d: unknown = m.data;
    if (Array.isArray(d)) out.push(...(d as Update[]));
    else if (typeof d === 'object' && d !== null && !('op' in d)) out.push(d as Update);
  }
  return out;
}

function storedPrices(): number[] {
  const e = ts.server.pipeline.symbols.get('AAPL')!;
  const out: number[] = [];
  for (let n = e.history.first; n <= e.seq; n++) {
    out.push((unpack(e.history.get(n)!) as Update).p);
  }
  return out;
}

test('synthetic ticks reach no real subscriber and change no real figure', async () => {
  const aapl = await ts.stream('symbols=AAPL');
  const all = await ts.stream('symbols=*');
  await aapl.nextOp('snapshot');
  await all.nextOp('snapshot');
  const feed = await ts.feed();
  for (const p of [101, 102, 103]) feed.sendPack({ s: 'AAPL', p });
  expect((await aapl.updates(3)).map((u) => u.n)).toEqual([1, 2, 3]);
  expect((await all.updates(3)).map((u) => u.n)).toEqual([1, 2, 3]);

  const before = await figures();
  for (const symbols of [1, 60]) {
    const status = await runLoadTest({ rate: 2000, symbols, subscribers: 2, duration: 1 });
    expect(status.result!.ticks).toBeGreaterThan(0);
    expect(status.result!.deliveries).toBeGreaterThan(0);
    expect(status.result!.messages_received).toBeGreaterThan(0);
  }
  expect(await figures()).toEqual(before);
  expect(ts.server.pipeline.symbols.get('AAPL')!.seq).toBe(3);
  expect(storedPrices()).toEqual([101, 102, 103]);

  // A real tick after the runs is n=4, and it is the first thing either
  // subscriber got since n=3 (uWS keeps a socket's messages in order, so a
  // synthetic tick sent during the runs would have come before it).
  feed.sendPack({ s: 'AAPL', p: 104 });
  await aapl.nextData((d: { n?: number }) => d.n === 4);
  await all.nextData((d: { n?: number }) => d.n === 4);
  for (const c of [aapl, all]) {
    expect(updatesSeen(c).map((u) => [u.s, u.n, u.p])).toEqual([
      ['AAPL', 1, 101],
      ['AAPL', 2, 102],
      ['AAPL', 3, 103],
      ['AAPL', 4, 104],
    ]);
  }
  expect(storedPrices()).toEqual([101, 102, 103, 104]);

  // The snapshot holds the real last value; no synthetic symbol is known.
  const late = await ts.stream();
  const { snapshot } = await ts.subscribe(late, ['*']);
  expect((snapshot as { ticks: Update[] }).ticks.map((u) => [u.s, u.n, u.p])).toEqual([
    ['AAPL', 4, 104],
  ]);
});
