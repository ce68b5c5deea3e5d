/**
 * SIGTERM under load (spawned process): /readyz answers 503 at once and new
 * connections are refused; the feed is closed first (1001); every tick the
 * feed got an ack for reaches every subscriber, gap-free, before its 1001 —
 * including a subscriber that was not reading when the signal came, whose
 * queue the server drains first — and the process exits 0 within the drain
 * timeout.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  type TestClient,
  type Update,
  connect,
  sleep,
  updatesOf,
  waitFor,
} from '../helpers/clients.js';
import { type RunningServer, ensureBuilt, startProcess, stopProcess } from '../helpers/process.js';
import { KeepAliveHttp, httpGet } from '../helpers/server.js';

const TOKEN = 'drain-feed-token';
const DRAIN_TIMEOUT_S = 5;
const SYMBOLS = Array.from({ length: 10 }, (_, i) => `SD.${i}`);
const SOME = ['SD.0', 'SD.3', 'SD.7'];
const BATCH = 50;

let s: RunningServer | undefined;

beforeAll(() => {
  ensureBuilt();
}, 60_000);

afterAll(async () => {
  if (s !== undefined) await stopProcess(s, 'SIGKILL').catch(() => undefined);
});

/** The TCP socket under a `ws` client, to stop and resume reading. */
function tcp(c: TestClient): Socket {
  return (c.ws as unknown as { _socket: Socket })._socket;
}

/** Every update a subscriber received, per symbol, in order of arrival. */
function nsBySymbol(c: TestClient): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of c.history) {
    for (const u of updatesOf(m.data) ?? ([] as Update[])) {
      const list = out.get(u.s) ?? [];
      list.push(u.n);
      out.set(u.s, list);
    }
  }
  return out;
}

test('SIGTERM mid-stream: readyz 503 at once, acked ticks all delivered, 1001, exit 0 in time', async () => {
  s = await startProcess([
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--feed-token',
    TOKEN,
    '--drain-timeout',
    String(DRAIN_TIMEOUT_S),
    // Queues here grow to a few MiB on purpose: no conflation, no slow_consumer.
    '--conflate-at',
    String(256 * 1024 * 1024),
    '--max-backpressure',
    String(256 * 1024 * 1024),
  ]);
  const port = s.port;
  const all = await connect(`ws://127.0.0.1:${port}/stream?symbols=*`);
  const some = await connect(`ws://127.0.0.1:${port}/stream?symbols=${SOME.join(',')}&format=json`);
  await all.nextOp('snapshot');
  await some.nextOp('snapshot');
  const feed = await connect(`ws://127.0.0.1:${port}/feed?ack=1`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const http = await KeepAliveHttp.open(port);
  expect((await http.get('/readyz')).status).toBe(200);

  // Steady load: a batch of 50 ticks over 10 symbols every 2 ms (≈25k ticks/s,
  // ≈14 MB/s with the padding: a second of it is more than the kernel buffers).
  const pad = 'x'.repeat(250);
  const sent: string[][] = [];
  let seq = 0;
  const timer = setInterval(() => {
    if (!feed.isOpen) return;
    const batch = Array.from({ length: BATCH }, () => ({
      s: SYMBOLS[seq % SYMBOLS.length]!,
      p: seq++,
      q: 1,
      x1: pad,
      x2: pad,
    }));
    sent.push(batch.map((t) => t.s));
    feed.sendPack(batch);
  }, 2);

  try {
    await sleep(500);
    // The wildcard subscriber stops reading: its queue builds up in the server.
    tcp(all).pause();
    await sleep(1000);

    const t0 = performance.now();
    const someClosedAt = some.closed.then(() => performance.now() - t0);
    s.child.kill('SIGTERM');
    let ready = await http.get('/readyz');
    while (ready.status === 200 && performance.now() - t0 < 1000) ready = await http.get('/readyz');
    const readyzFlipMs = performance.now() - t0;
    expect(ready.status).toBe(503);
    expect(readyzFlipMs).toBeLessThan(500);
    await expect(httpGet(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

    const feedClose = await feed.waitClose(DRAIN_TIMEOUT_S * 1000);
    expect(feedClose.code).toBe(1001);
    const feedClosedMs = performance.now() - t0;
    expect(some.isOpen).toBe(true);
    // Resume reading after a while: the server must still be draining.
    await sleep(500);
    expect(all.isOpen).toBe(true);
    const resumedMs = performance.now() - t0;
    tcp(all).resume();

    for (const c of [all, some]) {
      const close = await c.waitClose((DRAIN_TIMEOUT_S + 2) * 1000);
      expect(close.code).toBe(1001);
      expect(close.reason.startsWith('going_away')).toBe(true);
    }
    const subsClosedMs = performance.now() - t0;
    // Subscribers are closed together once every queue drained: the reading
    // one only after the paused one had caught up.
    expect(await someClosedAt).toBeGreaterThan(resumedMs);
    const exit = await s.exited;
    const exitMs = performance.now() - t0;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(DRAIN_TIMEOUT_S * 1000 + 1500);

    // What the feed got acks for, per symbol.
    const acks = feed.history
      .filter((m) => m.data.op === 'ack')
      .map(
        (m): { frame: number; accepted: number } => m.data as { frame: number; accepted: number },
      );
    expect(acks.length).toBeGreaterThan(100);
    acks.forEach((a, i) => {
      expect(a).toMatchObject({ frame: i + 1, accepted: BATCH, rejected: 0 });
    });
    const acked = new Map<string, number>();
    for (const batch of sent.slice(0, acks.length))
      for (const sym of batch) acked.set(sym, (acked.get(sym) ?? 0) + 1);

    // Every acked tick reached both subscribers, numbered 1, 2, 3, … per symbol.
    for (const [c, symbols] of [
      [all, SYMBOLS],
      [some, SOME],
    ] as const) {
      const got = nsBySymbol(c);
      expect([...got.keys()].sort()).toEqual([...symbols].sort());
      for (const sym of symbols) {
        const ns = got.get(sym)!;
        expect(ns.length).toBeGreaterThanOrEqual(acked.get(sym)!);
        expect(ns.every((n, i) => n === i + 1)).toBe(true);
      }
    }
    const delivered = [...nsBySymbol(all).values()].reduce((sum, ns) => sum + ns.length, 0);
    console.info(
      `shutdown under load: ${acks.length * BATCH} ticks acked, ${delivered} delivered to "*"; ` +
        `readyz 503 after ${readyzFlipMs.toFixed(1)} ms, feed closed after ${feedClosedMs.toFixed(0)} ms, ` +
        `reading resumed after ${resumedMs.toFixed(0)} ms, subscribers closed after ${subsClosedMs.toFixed(0)} ms, exit after ${exitMs.toFixed(0)} ms`,
    );
  } finally {
    clearInterval(timer);
    http.close();
  }
  await waitFor(() => !all.isOpen && !some.isOpen, 'closed subscribers');
}, 30_000);

test('drain timeout: a subscriber that never reads is closed when the timeout passes', async () => {
  s = await startProcess([
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--feed-token',
    TOKEN,
    '--drain-timeout',
    '2',
    '--conflate-at',
    String(256 * 1024 * 1024),
    '--max-backpressure',
    String(256 * 1024 * 1024),
  ]);
  const port = s.port;
  const stuck = await connect(`ws://127.0.0.1:${port}/stream?symbols=*`);
  await stuck.nextOp('snapshot');
  tcp(stuck).pause();
  const feed = await connect(`ws://127.0.0.1:${port}/feed?ack=1`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  // Enough to fill the kernel buffers and queue more in the server.
  const big = Array.from({ length: 4000 }, (_, i) => ({ s: 'SD.X', p: i, pad: 'x'.repeat(200) }));
  for (let i = 0; i < 30; i++) feed.sendPack(big);
  await waitFor(() => feed.history.filter((m) => m.data.op === 'ack').length === 30, '30 acks');
  const t0 = performance.now();
  const exit = await stopProcess(s, 'SIGTERM', 10_000);
  const exitMs = performance.now() - t0;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(exitMs).toBeGreaterThanOrEqual(1800);
  expect(exitMs).toBeLessThan(3500);
  console.info(`drain timeout 2 s with a stuck subscriber: exit after ${exitMs.toFixed(0)} ms`);
}, 30_000);
