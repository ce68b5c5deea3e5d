/**
 * The dashboard without a browser: static assets (types, caching, gzip) and
 * the /stats/stream WebSocket.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { acceptsGzip } from '../../src/server/static.js';
import type { Msg } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startServer({ demo: true });
});
afterAll(() => ts.stop());

async function assetPaths(): Promise<string[]> {
  const html = await (await fetch(ts.httpUrl('/'))).text();
  return [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
}

describe('static assets', () => {
  test('/ is the dashboard page, no-cache', async () => {
    const res = await fetch(ts.httpUrl('/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('id="board"');
  });

  test('hashed assets: content types and a long immutable cache', async () => {
    const paths = await assetPaths();
    expect(paths.some((p) => /\/dashboard-\w+\.js$/.test(p))).toBe(true);
    expect(paths.some((p) => p.endsWith('.css'))).toBe(true);
    for (const p of paths) {
      const res = await fetch(ts.httpUrl(p));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(
        p.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      expect(res.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
    }
  });

  test('gzip only when Accept-Encoding allows it', async () => {
    const js = (await assetPaths()).find((p) => p.endsWith('.js'))!;
    const plain = await rawGet(js, undefined);
    expect(plain.encoding).toBeUndefined();
    const gz = await rawGet(js, 'gzip, deflate, br');
    expect(gz.encoding).toBe('gzip');
    expect(gz.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
  });

  test('acceptsGzip', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('br, gzip;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('')).toBe(false);
  });
});

/** GET without fetch's transparent decompression. */
async function rawGet(
  path: string,
  acceptEncoding: string | undefined,
): Promise<{ encoding: string | undefined; body: Buffer }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      ts.httpUrl(path),
      { headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const enc = res.headers['content-encoding'];
          resolve({ encoding: enc, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('/stats/stream', () => {
  test('one JSON snapshot at once, then one per second, with rates and memory', async () => {
    const ws = new WebSocket(ts.wsUrl('/stats/stream'));
    const messages: Msg[] = [];
    ws.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false);
      messages.push(JSON.parse((data as Buffer).toString('utf8')));
    });
    await expect.poll(() => messages.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const last = messages.at(-1)!;
    expect(last).toMatchObject({
      ticks: { received: expect.any(Number) },
      latency_us: { p50: expect.any(Number), p999: expect.any(Number) },
      rates: {
        ticks_in: expect.any(Number),
        updates_out: expect.any(Number),
        frames_in: expect.any(Number),
      },
      memory: { rss: expect.any(Number), heap_used: expect.any(Number) },
      admin_enabled: false,
      demo: true,
    });
    expect(last.rates.ticks_in).toBeGreaterThan(0);
    // Stats listeners are not counted as subscribers.
    expect(last.connections.subscribers).toBe(0);
    ws.close();
  });

  test('updates out counts deliveries to /stream subscribers', async () => {
    const sub = await ts.stream('symbols=*');
    const ws = new WebSocket(ts.wsUrl('/stats/stream'));
    const rates: number[] = [];
    ws.on('message', (data) =>
      rates.push(JSON.parse((data as Buffer).toString('utf8')).rates.updates_out),
    );
    await expect.poll(() => rates.some((r) => r > 0), { timeout: 5000 }).toBe(true);
    ws.close();
    await sub.close();
  });
});
