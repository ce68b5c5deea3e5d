/**
 * HTTP: /stats (JSON, exact contract shape, counts matching what was sent),
 * /metrics (Prometheus text, tickwire_ names, the same counts), /healthz,
 * /readyz, / and 404 for anything else.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, waitFor } from '../helpers/clients.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;
let sub: TestClient;

beforeAll(async () => {
  ts = await startServer();
  sub = await ts.stream('symbols=*');
  await sub.nextOp('snapshot');
  feed = await ts.feed('ack=1');
  // 1: three valid ticks (two symbols)
  feed.sendPack([
    { s: 'HT.A', p: 1 },
    { s: 'HT.B', p: 2 },
    { s: 'HT.A', p: 3 },
  ]);
  // 2: two valid, one invalid
  feed.sendPack([{ s: 'HT.C', p: 1 }, { s: 'HT.A' }, { s: 'HT.B', p: 4 }]);
  // 3: bad_frame (adds no ticks)
  feed.sendBytes(Buffer.from([0xc1]));
  // 4: a single invalid tick
  feed.sendPack({ s: 'HT.D', p: 'x' });
  // 5: a single valid tick
  feed.sendPack({ s: 'HT.D', p: 5 });
  for (let i = 1; i <= 5; i++) expect((await feed.nextOp('ack')).frame).toBe(i);
  await sub.updates(6);
});

afterAll(async () => {
  await ts.stop();
});

/** received = valid + invalid ticks of parsable frames. */
const EXPECTED = { received: 8, published: 6, rejected: 2, frames: 5, badFrames: 1, symbols: 4 };

describe('/stats', () => {
  test('JSON with the contract shape', async () => {
    const res = await httpGet(ts.httpUrl('/stats'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const stats = JSON.parse(res.body);
    expect(Object.keys(stats)).toEqual(
      expect.arrayContaining(['uptime_s', 'ticks', 'connections', 'symbols', 'latency_us']),
    );
    expect(typeof stats.uptime_s).toBe('number');
    expect(stats.uptime_s).toBeGreaterThanOrEqual(0);
    expect(Object.keys(stats.ticks).sort()).toEqual(['published', 'received', 'rejected']);
    expect(Object.keys(stats.connections).sort()).toEqual(['feeds', 'subscribers']);
    expect(typeof stats.symbols).toBe('number');
    expect(Object.keys(stats.latency_us).sort()).toEqual(
      ['max', 'mean', 'p50', 'p95', 'p99', 'p999', 'samples'].sort(),
    );
    for (const v of [
      ...Object.values(stats.ticks),
      ...Object.values(stats.connections),
      ...Object.values(stats.latency_us),
    ]) {
      expect(typeof v).toBe('number');
      expect(Number.isFinite(v)).toBe(true);
      expect(v as number).toBeGreaterThanOrEqual(0);
    }
    // Documented extras.
    expect(typeof stats.started_at).toBe('string');
    expect(Number.isNaN(Date.parse(stats.started_at))).toBe(false);
    expect(stats.uws).toEqual({ native: true });
    expect(Object.keys(stats.frames).sort()).toEqual(['bad', 'received']);
  });

  test('counts match what was sent', async () => {
    const stats = await ts.stats();
    expect(stats.ticks).toEqual({
      received: EXPECTED.received,
      published: EXPECTED.published,
      rejected: EXPECTED.rejected,
    });
    expect(stats.frames).toEqual({ received: EXPECTED.frames, bad: EXPECTED.badFrames });
    expect(stats.connections).toEqual({ feeds: 1, subscribers: 1 });
    expect(stats.symbols).toBe(EXPECTED.symbols);
    expect(stats.slow_consumers_closed).toBe(0);
  });

  test('latency_us covers every published tick; percentiles are ordered', async () => {
    const { latency_us: l } = await ts.stats();
    expect(l.samples).toBe(EXPECTED.published);
    expect(l.p50).toBeLessThanOrEqual(l.p95);
    expect(l.p95).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    expect(l.p999).toBeLessThanOrEqual(l.max);
    expect(l.mean).toBeLessThanOrEqual(l.max);
  });

  test('connection counts follow opens and closes', async () => {
    const extraFeed = await ts.feed();
    const extraSubs = await Promise.all([ts.stream(), ts.stream('format=json')]);
    expect((await ts.stats()).connections).toEqual({ feeds: 2, subscribers: 3 });
    await Promise.all([extraFeed.close(), ...extraSubs.map((c) => c.close())]);
    await waitFor(async () => {
      const c = (await ts.stats()).connections;
      return c.feeds === 1 && c.subscribers === 1;
    }, 'connection counts back to 1/1');
  });
});

describe('/metrics', () => {
  test('Prometheus text exposition with tickwire_ names and the same counts', async () => {
    const res = await httpGet(ts.httpUrl('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const samples = new Map<string, number>();
    for (const line of res.body.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        expect(line).toMatch(/^# (HELP|TYPE) tickwire_/);
        continue;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      expect(m, `not a sample line: ${line}`).not.toBeNull();
      expect(m![1]!.startsWith('tickwire_')).toBe(true);
      samples.set(m![1]!, Number(m![2]));
    }
    expect(samples.get('tickwire_ticks_received_total')).toBe(EXPECTED.received);
    expect(samples.get('tickwire_ticks_published_total')).toBe(EXPECTED.published);
    expect(samples.get('tickwire_ticks_rejected_total')).toBe(EXPECTED.rejected);
    expect(samples.get('tickwire_frames_received_total')).toBe(EXPECTED.frames);
    expect(samples.get('tickwire_frames_bad_total')).toBe(EXPECTED.badFrames);
    expect(samples.get('tickwire_connections{role="feed"}')).toBe(1);
    expect(samples.get('tickwire_connections{role="subscriber"}')).toBe(1);
    expect(samples.get('tickwire_symbols')).toBe(EXPECTED.symbols);
    expect(samples.get('tickwire_pipeline_latency_samples')).toBe(EXPECTED.published);
    for (const q of ['0.5', '0.95', '0.99', '0.999']) {
      expect(samples.get(`tickwire_pipeline_latency_us{quantile="${q}"}`)).toBeGreaterThanOrEqual(
        0,
      );
    }
    // Node process metrics carry the prefix too.
    expect([...samples.keys()].some((k) => k.startsWith('tickwire_process_'))).toBe(true);
  });

  test('counters follow new traffic between scrapes', async () => {
    feed.sendPack([
      { s: 'HT.A', p: 9 },
      { s: 'HT.A', q: 1 },
    ]);
    await feed.nextOp('ack');
    const res = await httpGet(ts.httpUrl('/metrics'));
    expect(res.body).toMatch(
      new RegExp(`^tickwire_ticks_received_total ${EXPECTED.received + 2}$`, 'm'),
    );
    expect(res.body).toMatch(
      new RegExp(`^tickwire_ticks_published_total ${EXPECTED.published + 1}$`, 'm'),
    );
    expect(res.body).toMatch(
      new RegExp(`^tickwire_ticks_rejected_total ${EXPECTED.rejected + 1}$`, 'm'),
    );
    const stats = await ts.stats();
    expect(stats.ticks).toEqual({
      received: EXPECTED.received + 2,
      published: EXPECTED.published + 1,
      rejected: EXPECTED.rejected + 1,
    });
  });
});

describe('other paths', () => {
  test('/healthz answers 200', async () => {
    expect((await httpGet(ts.httpUrl('/healthz'))).status).toBe(200);
  });

  test('/readyz answers 200 while running', async () => {
    expect((await httpGet(ts.httpUrl('/readyz'))).status).toBe(200);
  });

  test('/ answers 200 with an HTML page', async () => {
    const res = await httpGet(ts.httpUrl('/'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body.length).toBeGreaterThan(0);
  });

  test.each(['/nope', '/stats/', '/statsx', '/metrics.json', '/favicon.ico', '/healthz/x'])(
    'GET %s: 404',
    async (path) => {
      expect((await httpGet(ts.httpUrl(path))).status).toBe(404);
    },
  );

  test.each([
    ['POST', '/stats'],
    ['PUT', '/metrics'],
    ['DELETE', '/'],
    ['PATCH', '/healthz'],
  ])('%s %s: 404 (only GET and HEAD are served)', async (method, path) => {
    expect((await httpGet(ts.httpUrl(path), method)).status).toBe(404);
  });

  test('a plain GET of /feed or /stream without an upgrade is not a success', async () => {
    for (const path of ['/feed', '/stream']) {
      const res = await httpGet(ts.httpUrl(path));
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });
});
