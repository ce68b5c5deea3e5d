/**
 * Half-open and silent peers with the shortest idle timeout (idleTimeoutS 8):
 * a client that sends half a frame and goes silent, one that stops reading,
 * one that never says anything after the upgrade, and TCP clients stuck in
 * (or before) the HTTP upgrade. None of them may hang the server: uWS pings
 * the WebSocket ones and, with no answer, cuts them without a close frame
 * (observed after ~4–8 s: uWS's timer granularity is 4 s); the HTTP ones are
 * cut by uWS's fixed HTTP idle timeout (~10 s). Meanwhile a healthy feed and
 * subscriber (the ws library answers pings) keep working past the timeout.
 */
import { type Socket, createConnection } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, waitFor } from '../helpers/clients.js';
import { type EndInfo, Opcode, RawWebSocket, encodeFrame } from '../helpers/raw-ws.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

const IDLE_S = 8;
/** Earliest plausible cut: the idle timeout minus uWS's 4 s granularity, less slack. */
const MIN_END_MS = 3000;
/** Latest acceptable cut on a loaded machine. */
const MAX_END_MS = 25_000;
const OK_SYMBOL = 'IDLE.OK';

let ts: TestServer;
let feed: TestClient;
let sub: TestClient;
let sent = 0;
let publisher: NodeJS.Timeout | undefined;
let halfFrame: RawWebSocket;
let headerByte: RawWebSocket;
let silent: RawWebSocket;
let paused: RawWebSocket;
let halfFrameEnd: Promise<EndInfo>;
let headerByteEnd: Promise<EndInfo>;
let silentEnd: Promise<EndInfo>;
const tcpEnds: Promise<number>[] = [];
let t0 = 0;

/** A bare TCP connection; resolves with ms from t0 when the server closes it. */
function tcpClient(port: number, write: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    const s: Socket = createConnection({ host: '127.0.0.1', port }, () => {
      if (write !== undefined) s.write(write);
    });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => resolve(Date.now() - t0));
  });
}

beforeAll(async () => {
  ts = await startServer({ idleTimeoutS: IDLE_S });
  feed = await ts.feed();
  sub = await ts.stream(`symbols=${OK_SYMBOL}`);
  await sub.nextOp('snapshot');
  const auth = { headers: { Authorization: `Bearer ${FEED_TOKEN}` } };
  t0 = Date.now();
  // Half a frame (20 of 106 bytes), then silence.
  halfFrame = await RawWebSocket.connect(ts.port, '/feed', auth);
  halfFrame.write(
    encodeFrame({ opcode: Opcode.Binary, payload: new Uint8Array(100) }).subarray(0, 20),
  );
  // One header byte, then silence.
  headerByte = await RawWebSocket.connect(ts.port, '/stream', {});
  headerByte.write(Uint8Array.of(0x82));
  // Upgraded, then nothing at all.
  silent = await RawWebSocket.connect(ts.port, '/feed', auth);
  // A subscriber that stops reading while updates flow to it.
  paused = await RawWebSocket.connect(ts.port, `/stream?symbols=${OK_SYMBOL}`, {});
  await paused.nextFrame((f) => f.opcode === Opcode.Binary); // subscribed
  paused.pauseReading();
  halfFrameEnd = halfFrame.waitEnd(MAX_END_MS);
  headerByteEnd = headerByte.waitEnd(MAX_END_MS);
  silentEnd = silent.waitEnd(MAX_END_MS);
  // HTTP: half an upgrade request; a connection that sends nothing.
  tcpEnds.push(
    tcpClient(ts.port, 'GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'),
    tcpClient(ts.port, undefined),
  );
  // The healthy feed publishes throughout.
  publisher = setInterval(() => feed.sendPack({ s: OK_SYMBOL, p: ++sent }), 200);
});

afterAll(async () => {
  clearInterval(publisher);
  for (const ws of [halfFrame, headerByte, silent, paused]) ws?.destroy();
  await ts.stop();
});

function expectIdleCut(end: EndInfo, ws: RawWebSocket): void {
  expect(['fin', 'reset']).toContain(end.how);
  expect(end.afterMs).toBeGreaterThanOrEqual(MIN_END_MS);
  expect(end.afterMs).toBeLessThanOrEqual(MAX_END_MS);
  // uWS pinged first; no close frame, no application message.
  expect(end.closeFrame).toBeUndefined();
  expect(ws.frames.map((f) => f.opcode)).toEqual([Opcode.Ping]);
}

test('half a frame, then silence: pinged, then cut at the idle timeout', async () => {
  expectIdleCut(await halfFrameEnd, halfFrame);
}, 40_000);

test('one header byte, then silence: cut at the idle timeout', async () => {
  expectIdleCut(await headerByteEnd, headerByte);
}, 40_000);

test('silence right after the upgrade: cut at the idle timeout', async () => {
  expectIdleCut(await silentEnd, silent);
}, 40_000);

test('a subscriber that stops reading is cut too (it cannot answer pings)', async () => {
  await waitFor(
    async () => (await ts.stats()).connections.subscribers === 1,
    'the paused subscriber to be closed by the server',
    MAX_END_MS,
  );
  expect(Date.now() - t0).toBeGreaterThanOrEqual(MIN_END_MS);
  paused.resumeReading();
  const end = await paused.waitEnd(5000);
  expect(['fin', 'reset']).toContain(end.how);
  expect(end.closeFrame).toBeUndefined();
}, 40_000);

test('HTTP clients stuck before or inside the upgrade are cut by the HTTP idle timeout', async () => {
  for (const ms of await Promise.all(tcpEnds)) {
    expect(ms).toBeGreaterThanOrEqual(MIN_END_MS);
    expect(ms).toBeLessThanOrEqual(MAX_END_MS);
  }
}, 40_000);

test('meanwhile the healthy feed and subscriber, which answer pings, kept working past the timeout', async () => {
  await waitFor(
    () => Date.now() - t0 > (IDLE_S + 4) * 1000,
    'the idle timeout to have passed',
    20_000,
  );
  clearInterval(publisher);
  const total = sent;
  const ups = await sub.updates(total, 10_000);
  expect(ups.map((u) => u.p)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(ups.map((u) => u.n)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(feed.isOpen && sub.isOpen).toBe(true);
  const stats = await ts.stats();
  expect(stats.connections).toEqual({ feeds: 1, subscribers: 1 });
  expect(stats.ticks.published).toBe(total);
  // And a new client is served.
  const fresh = await ts.stream();
  fresh.sendPack({ op: 'ping', id: 1 });
  expect(await fresh.nextOp('pong')).toMatchObject({ id: 1 });
}, 40_000);
