/**
 * Socket fuzz: 32 hostile connections (seeded PRNG, so every run sends the
 * same bytes) throw raw TCP garbage, protocol violations, junk MessagePack on
 * /feed (with the token) and junk control messages on /stream, reconnecting
 * as they are cut, while a healthy feed publishes 2,000 ticks over 8 symbols
 * (ack=1) and a healthy subscriber on "*" receives. The healthy subscriber
 * must get every update, per symbol gap-free n = 1..N in order (the hostile
 * feeds' own valid ticks included), and /stats must add up.
 *
 * Everything waits on conditions (acks, counts), never on fixed sleeps for
 * correctness; timeouts are generous for a loaded 2-core machine.
 */
import { type Socket, createConnection } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, type Update, pack, sleep, waitFor } from '../helpers/clients.js';
import { type FrameSpec, Opcode, RawWebSocket, closePayload } from '../helpers/raw-ws.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

const SEED = 0x7ac4_1e55;
const ATTACKERS = 32;
const HEALTHY_TICKS = 2000;
const HEALTHY_SYMBOLS = Array.from({ length: 8 }, (_, i) => `FZ.S${i}`);
/** The fuzz runs at least this long, and until the healthy feed is done. */
const MIN_FUZZ_MS = 4000;

/** mulberry32: a small seeded PRNG. */
class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));
}

/** Flips, sets, inserts or deletes a few bytes. */
function mutate(r: Rng, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  for (let k = 1 + r.int(3); k > 0 && b.length > 0; k--) {
    const at = r.int(b.length);
    switch (r.int(4)) {
      case 0:
        b[at] = b[at]! ^ (1 + r.int(255));
        break;
      case 1:
        b[at] = r.pick([0x00, 0x7f, 0x80, 0x90, 0xc0, 0xc1, 0xc4, 0xd4, 0xdc, 0xdd, 0xde, 0xdf]);
        break;
      case 2:
        b.splice(at, 0, r.int(256));
        break;
      default:
        b.splice(at, 1);
    }
  }
  return Uint8Array.from(b);
}

const JUNK_SYMBOLS = ['JUNK.A', 'JUNK.B', 'JUNK.C'];

/** A junk /feed payload: mostly invalid, sometimes a valid tick of a JUNK symbol. */
function junkFeedPayload(r: Rng): Uint8Array {
  const tick = (): Record<string, unknown> => ({ s: r.pick(JUNK_SYMBOLS), p: r.next() * 100 });
  switch (r.int(12)) {
    case 0:
      return r.bytes(r.int(64));
    case 1:
      return mutate(r, pack(tick()));
    case 2:
      return mutate(r, pack([tick(), tick(), tick()]));
    case 3: // a hostile length claim
      return concat(pack({ s: 'JUNK.A', p: 1 }).subarray(0, 8), [0xdb, 0xff, 0xff, 0xff, 0xff]);
    case 4: // array32 claiming 2^32-1
      return concat([0xdd, 0xff, 0xff, 0xff, 0xff], r.bytes(16));
    case 5: // deep nesting
      return concat(new Uint8Array(200 + r.int(2000)).fill(0x91), [0x01]);
    case 6: // 4097 elements
      return concat([0xdc, 0x10, 0x01], new Uint8Array(4097).fill(0x01));
    case 7: // invalid ticks
      return pack([
        { s: 'JUNK.A', p: Number.NaN },
        { s: 'x'.repeat(40), p: 1 },
        JSON.parse('{"s":"JUNK.B","p":1,"__proto__":1}') as unknown,
        { s: 'JUNK.C', p: 1, n: 5 },
      ]);
    case 8: // extension type values
      return concat([0x83], pack('s'), pack('JUNK.A'), pack('p'), pack(1), pack('x'), [0xd4, 1, 0]);
    case 9:
    case 10:
      return pack(r.chance(0.5) ? tick() : [tick(), tick()]); // valid
    default:
      return pack(r.pick([42, 'AAPL', null, true, [], {}]));
  }
}

/** A junk /stream control message (binary MessagePack or text). */
function junkControl(r: Rng): { text: boolean; payload: Uint8Array | string } {
  const sym = (): string =>
    r.pick([...JUNK_SYMBOLS, ...HEALTHY_SYMBOLS, '*', '', 'bad symbol', 'x'.repeat(40)]);
  switch (r.int(10)) {
    case 0:
      return { text: true, payload: '{"op":"subscribe","symbols":[' };
    case 1:
      return {
        text: true,
        payload: JSON.stringify({ op: r.pick(['sub', 'ping', 'unsubscribe', 7]), id: r.int(9) }),
      };
    case 2:
      return { text: false, payload: r.bytes(r.int(48)) };
    case 3:
      return {
        text: false,
        payload: mutate(r, pack({ op: 'subscribe', symbols: [sym(), sym()] })),
      };
    case 4:
      return { text: false, payload: pack({ op: 'subscribe', symbols: [sym(), sym()] }) };
    case 5:
      return { text: true, payload: JSON.stringify({ op: 'unsubscribe', symbols: [sym()] }) };
    case 6:
      return { text: false, payload: concat([0xdd, 0xff, 0xff, 0xff, 0xff], r.bytes(8)) };
    case 7:
      return { text: false, payload: concat(new Uint8Array(300).fill(0x91), [0x01]) };
    case 8:
      return { text: true, payload: JSON.stringify({ op: 'subscribe', symbols: { 0: '*' } }) };
    default:
      return { text: false, payload: pack({ op: 'ping', id: r.bytes(4) }) };
  }
}

/** A frame breaking RFC 6455 in some way (most get the connection cut). */
function protocolViolation(r: Rng): FrameSpec {
  switch (r.int(8)) {
    case 0:
      return {
        opcode: r.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]),
        payload: r.bytes(r.int(10)),
      };
    case 1:
      return { opcode: Opcode.Binary, rsv: 1 + r.int(7), payload: r.bytes(5) };
    case 2:
      return { opcode: Opcode.Ping, fin: false, payload: 'x' };
    case 3:
      return { opcode: Opcode.Ping, payload: r.bytes(126 + r.int(50)) };
    case 4:
      return { opcode: Opcode.Continuation, payload: r.bytes(4) };
    case 5:
      return { opcode: Opcode.Text, payload: Uint8Array.of(0xff, 0xfe, 0xfd) };
    case 6:
      return {
        opcode: Opcode.Binary,
        declaredLength: 2n ** 62n + BigInt(r.int(1000)),
        payload: r.bytes(8),
      };
    default:
      return { opcode: Opcode.Close, payload: closePayload(r.pick([0, 999, 1005, 1006, 5000])) };
  }
}

interface Tally {
  sessions: number;
  frames: number;
  refusedOrFailed: number;
  tcp: number;
}

let ts: TestServer;
let feed: TestClient;
let sub: TestClient;
const live = new Set<RawWebSocket | Socket>();

beforeAll(async () => {
  ts = await startServer({ maxFeedFrame: 64 * 1024, maxStreamFrame: 4096 });
  feed = await ts.feed('ack=1');
  sub = await ts.stream('symbols=*');
  await sub.nextOp('snapshot');
});

afterAll(async () => {
  for (const c of live) c.destroy();
  await ts.stop();
});

/** Raw TCP garbage: random bytes, or a broken HTTP request. */
async function tcpGarbage(r: Rng, tally: Tally): Promise<void> {
  tally.tcp++;
  const s = createConnection({ host: '127.0.0.1', port: ts.port });
  live.add(s);
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  s.on('error', () => undefined);
  s.on('data', () => undefined);
  const junk = r.chance(0.5)
    ? r.bytes(1 + r.int(200))
    : Buffer.from(
        r.pick([
          'GET /feed HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: !!\r\n\r\n',
          'GET /stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n\r\n',
          'POST /feed HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nxx',
          'GET /\u0000\u0001 HTTP/9.9\r\n\r\n',
          `GET /feed?token=${'t'.repeat(5000)} HTTP/1.1\r\n\r\n`,
          // A complete, valid upgrade, then the client vanishes.
          `GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
            `Authorization: Bearer ${FEED_TOKEN}\r\n\r\n`,
        ]),
      );
  s.write(junk);
  await Promise.race([closed, sleep(20 + r.int(80))]);
  s.destroy();
  live.delete(s);
}

/** One WebSocket session on /feed or /stream: junk, maybe a violation, then gone. */
async function wsSession(r: Rng, tally: Tally): Promise<void> {
  const onFeed = r.chance(0.5);
  const path = onFeed
    ? `/feed${r.chance(0.5) ? '?ack=1' : ''}`
    : `/stream${r.chance(0.3) ? '?symbols=*' : ''}`;
  let ws: RawWebSocket;
  try {
    ws = await RawWebSocket.connect(ts.port, path, {
      headers: { Authorization: `Bearer ${FEED_TOKEN}` },
      timeoutMs: 10_000,
    });
  } catch {
    tally.refusedOrFailed++;
    return;
  }
  live.add(ws);
  tally.sessions++;
  const frames = 1 + r.int(25);
  for (let i = 0; i < frames && !ws.isEnded; i++) {
    tally.frames++;
    if (r.chance(0.06)) {
      ws.send(protocolViolation(r));
    } else if (onFeed) {
      const payload = junkFeedPayload(r);
      if (r.chance(0.1)) {
        // The same junk split into fragments.
        const cut = r.int(payload.length + 1);
        ws.sendAll([
          { opcode: Opcode.Binary, fin: false, payload: payload.subarray(0, cut) },
          { opcode: Opcode.Continuation, payload: payload.subarray(cut) },
        ]);
      } else {
        ws.send({ opcode: r.chance(0.05) ? Opcode.Text : Opcode.Binary, payload });
      }
    } else {
      const m = junkControl(r);
      ws.send({ opcode: m.text ? Opcode.Text : Opcode.Binary, payload: m.payload });
    }
    if (r.chance(0.3)) await sleep(r.int(5));
  }
  // Leave in one of several ways.
  switch (r.int(4)) {
    case 0:
      ws.sendClose(1000);
      break;
    case 1:
      ws.write(r.bytes(3)); // half a frame
      break;
    case 2:
      ws.socket.end();
      break;
    default:
      break;
  }
  await Promise.race([ws.ended, sleep(10 + r.int(60))]);
  ws.destroy();
  live.delete(ws);
}

async function attacker(seed: number, running: () => boolean, tally: Tally): Promise<void> {
  const r = new Rng(seed);
  while (running()) {
    if (r.chance(0.2)) await tcpGarbage(r, tally);
    else await wsSession(r, tally);
    await sleep(r.int(10));
  }
}

/** Sends HEALTHY_TICKS ticks in batches of 1–20 over the healthy symbols, awaiting each ack. */
async function healthyFeed(r: Rng): Promise<Map<string, number[]>> {
  const sentPrices = new Map<string, number[]>(HEALTHY_SYMBOLS.map((s) => [s, []]));
  let sent = 0;
  let frame = 0;
  while (sent < HEALTHY_TICKS) {
    const size = Math.min(1 + r.int(20), HEALTHY_TICKS - sent);
    const batch = Array.from({ length: size }, () => {
      const s = r.pick(HEALTHY_SYMBOLS);
      const p = ++sent;
      sentPrices.get(s)!.push(p);
      return { s, p, q: 1 + r.int(100), t: 1_700_000_000_000_000 + p };
    });
    feed.sendPack(size === 1 && r.chance(0.5) ? batch[0] : batch);
    frame++;
    const ack = await feed.nextOp('ack', 15_000);
    expect(ack).toEqual({ op: 'ack', frame, accepted: size, rejected: 0 });
    if (r.chance(0.2)) await sleep(r.int(8));
  }
  return sentPrices;
}

test(`${ATTACKERS} hostile connections for a few seconds: the healthy subscriber gets every update, gap-free`, async () => {
  const tally: Tally = { sessions: 0, frames: 0, refusedOrFailed: 0, tcp: 0 };
  let running = true;
  const attackers = Array.from({ length: ATTACKERS }, (_, i) =>
    attacker(SEED + i, () => running, tally),
  );
  const t0 = Date.now();
  const sentPrices = await healthyFeed(new Rng(SEED - 1));
  const left = MIN_FUZZ_MS - (Date.now() - t0);
  if (left > 0) await sleep(left);
  running = false;
  await Promise.all(attackers);
  for (const c of live) c.destroy();

  // Hostile traffic really happened.
  expect(tally.sessions).toBeGreaterThan(ATTACKERS);
  expect(tally.frames).toBeGreaterThan(200);
  expect(tally.tcp).toBeGreaterThan(0);

  // Quiescence: only the healthy pair left, and every published tick delivered to "*".
  await waitFor(
    async () => {
      const s = await ts.stats();
      return s.connections.feeds === 1 && s.connections.subscribers === 1;
    },
    'the hostile connections to be gone',
    20_000,
  );
  const all: Update[] = [];
  const drain = (): void => {
    for (const m of sub.queue.splice(0)) {
      const data: unknown = m.data;
      if (Array.isArray(data)) all.push(...(data as Update[]));
      else all.push(data as Update);
    }
  };
  await waitFor(
    async () => {
      drain();
      const s = await ts.stats();
      return (
        s.ticks.received === s.ticks.published + s.ticks.rejected &&
        all.length === s.ticks.published
      );
    },
    'every published tick to reach the "*" subscriber',
    20_000,
  );
  const stats = await ts.stats();

  // Every update is a well-formed update (no control message in between).
  for (const u of all) {
    expect(typeof u.s).toBe('string');
    expect(typeof u.n).toBe('number');
  }
  // Per symbol, hostile feeds' symbols included: n = 1..N in order, gap-free.
  const bySymbol = new Map<string, Update[]>();
  for (const u of all) {
    const list = bySymbol.get(u.s) ?? [];
    list.push(u);
    bySymbol.set(u.s, list);
  }
  for (const [s, ups] of bySymbol) {
    expect(
      ups.map((u) => u.n),
      s,
    ).toEqual(Array.from({ length: ups.length }, (_, i) => i + 1));
  }
  // The healthy symbols: exactly what was sent, in order.
  for (const s of HEALTHY_SYMBOLS) {
    expect(
      (bySymbol.get(s) ?? []).map((u) => u.p),
      s,
    ).toEqual(sentPrices.get(s));
  }
  const healthyCount = HEALTHY_SYMBOLS.reduce((n, s) => n + (bySymbol.get(s)?.length ?? 0), 0);
  expect(healthyCount).toBe(HEALTHY_TICKS);

  // /stats adds up.
  expect(stats.ticks.published).toBe(all.length);
  expect(stats.ticks.published).toBeGreaterThanOrEqual(HEALTHY_TICKS);
  expect(stats.ticks.rejected).toBeGreaterThan(0);
  expect(stats.frames.bad).toBeGreaterThan(0);
  expect(stats.frames.bad).toBeLessThanOrEqual(stats.frames.received);
  expect(stats.symbols).toBe(bySymbol.size);
  expect(stats.connections).toEqual({ feeds: 1, subscribers: 1 });
  expect(stats.latency_us.samples).toBeGreaterThan(0);
  expect(feed.isOpen && sub.isOpen).toBe(true);

  // The server still serves newcomers.
  const fresh = await ts.stream('symbols=FZ.S0');
  await fresh.nextOp('snapshot');
  feed.sendPack({ s: 'FZ.S0', p: -1 });
  expect(await fresh.update()).toMatchObject({
    s: 'FZ.S0',
    p: -1,
    n: (bySymbol.get('FZ.S0')?.length ?? 0) + 1,
  });
  console.info(
    `socket-fuzz: ${tally.sessions} sessions, ${tally.frames} frames, ${tally.tcp} TCP garbage, ` +
      `${tally.refusedOrFailed} failed upgrades; published ${stats.ticks.published}, ` +
      `rejected ${stats.ticks.rejected}, bad frames ${stats.frames.bad}, symbols ${stats.symbols}`,
  );
}, 120_000);
