/**
 * The native loader's Socket.IO client (bench/loadgen/src/socketio.c) for
 * `--peer socketio`: Engine.IO v4 over a plain WebSocket with
 * socket.io-msgpack-parser's binary packets. Through `loadgen selftest sio`:
 * the handshake (OPEN -> CONNECT -> join "all" -> ACK), PING -> PONG, "ticks"
 * events at every MessagePack width and key order, the same stream cut at
 * every offset and read in small chunks, malformed packets; through
 * `loadgen selftest feed --format socketio`: the feed's EVENT frames, read by
 * the real parser. Then runs against the real peer (bench/peers/socketio.mjs)
 * and against a Socket.IO server with a 100 ms heartbeat, which drops any
 * connection that does not answer its pings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import * as parser from 'socket.io-msgpack-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HANDSHAKE,
  canBuild,
  execLoadgen,
  mp,
  runLoadgen,
  selftest,
  unframe,
  wsFrame,
} from './loadgen.js';

const ok = canBuild();
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
type Rec = Record<string, unknown>;

// The real parser: what the server encodes, and the judge of what the client sends.
const encoder = new parser.Encoder();
const pkt = (p: Rec): Buffer => Buffer.from((encoder.encode(p) as unknown as Uint8Array[])[0]!);
function decodePacket(b: Buffer): Rec {
  const d = new parser.Decoder();
  let out: Rec | undefined;
  d.on('decoded', (x: Rec) => (out = x));
  d.add(b); // throws on anything the server would refuse
  return out!;
}

const OPEN = wsFrame(
  1,
  Buffer.from(
    '0{"sid":"lR2l9sAbcd","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":16777216}',
  ),
);
const text = (s: string): Buffer => wsFrame(1, Buffer.from(s));
const bin = (b: Buffer): Buffer => wsFrame(2, b);
// As socket.io 4.8 sends them (the CONNECT reply carries pid: undefined, a fixext).
const CONNECT_REPLY = bin(pkt({ type: 0, data: { sid: 'Xy_1', pid: undefined }, nsp: '/' }));
const JOIN_ACK = bin(pkt({ id: 1, type: 3, data: ['ok'], nsp: '/' }));
const T = 1_765_000_000_123_456;
const key = (k: string): Buffer => mp.str(k);

/** A "ticks" event and the tick maps the walker must report for it. */
interface Ev {
  frame: Buffer;
  maps: Rec[];
  /** What --count reads from the batch's header, when not maps.length. */
  count?: number;
}

function realEvent(n: number, first = 0): Ev {
  const ticks = Array.from({ length: n }, (_, i) => ({
    s: `S${(first + i) % 10}`,
    p: 100.25,
    q: 1,
    t: T + i,
    k: first + i + 1,
  }));
  return {
    frame: bin(pkt({ type: 2, data: ['ticks', ticks], nsp: '/' })),
    maps: ticks.map((t) => ({ map: true, s: t.s, k: t.k, t: t.t })),
  };
}

/** Socket.IO envelopes at every width and in other key orders, by hand. */
function craftedEvents(): Ev[] {
  const out: Ev[] = [];
  const tickAt = (
    s: string,
    kType: number | 'fixint',
    k: number,
    tType: number | 'fixint',
    t: number | bigint,
  ) =>
    mp.map([
      [key('s'), mp.str(s)],
      [key('p'), mp.num(0xcb, 1.5)],
      [key('k'), mp.num(kType, k)],
      [key('t'), mp.num(tType, t)],
    ]);
  const ints: [number | 'fixint', number | bigint][] = [
    ['fixint', 7],
    [0xcc, 200],
    [0xcd, 60_000],
    [0xce, 4_000_000_000],
    [0xcf, BigInt(T)],
    [0xd0, 100],
    [0xd1, 30_000],
    [0xd2, 2_000_000_000],
    [0xd3, BigInt(T)],
    [0xca, 1024],
    [0xcb, T],
  ];
  const widths: ('fix' | 16 | 32)[] = ['fix', 16, 32];
  const strWidths: ('fix' | 8 | 16 | 32)[] = ['fix', 8, 16, 32];
  // Every integer width for type, k and t.
  for (const [type, v] of ints) {
    const isType = type === 'fixint' || (type !== 0xca && type !== 0xcb); // floats are no packet type
    out.push({
      frame: bin(
        mp.map([
          [key('type'), isType ? mp.num(type, 2) : mp.num('fixint', 2)],
          [
            key('data'),
            mp.array([
              mp.str('ticks'),
              mp.array([tickAt('W', type, Number(v) % 2 ** 31, type, v)]),
            ]),
          ],
          [key('nsp'), mp.str('/')],
        ]),
      ),
      maps: [{ map: true, s: 'W', k: Number(v) % 2 ** 31, t: Number(v) }],
    });
  }
  // Every map, array and string width for the envelope and the batch.
  for (const w of widths)
    for (const sw of strWidths)
      out.push({
        frame: bin(
          mp.map(
            [
              [mp.str('type', sw), mp.num(0xcc, 2)],
              [mp.str('nsp', sw), mp.str('/', sw)],
              [
                mp.str('data', sw),
                mp.array(
                  [
                    mp.str('ticks', sw),
                    mp.array(
                      [tickAt('A', 0xce, 1, 0xcf, 5n), tickAt('B', 'fixint', 2, 0xcb, 6)],
                      w,
                    ),
                  ],
                  w,
                ),
              ],
            ],
            w,
          ),
        ),
        maps: [
          { map: true, s: 'A', k: 1, t: 5 },
          { map: true, s: 'B', k: 2, t: 6 },
        ],
      });
  // data before type (walked after the map), nsp first, an ack id, unknown and
  // non-string keys, a second argument and a non-map element: all skipped.
  out.push({
    frame: bin(
      mp.map(
        [
          [
            key('data'),
            mp.array([
              mp.str('ticks'),
              mp.array([tickAt('D', 0xcd, 9, 0xce, 10)]),
              mp.str('extra'),
            ]),
          ],
          [mp.num('fixint', 1), mp.str('an integer key')],
          [key('options'), mp.map([[key('compress'), Buffer.from([0xc3])]])],
          [key('nsp'), mp.str('/')],
          [key('id'), mp.num(0xcc, 77)],
          [key('type'), mp.num('fixint', 2)],
        ],
        16,
      ),
    ),
    maps: [{ map: true, s: 'D', k: 9, t: 10 }],
  });
  out.push({
    frame: bin(
      mp.map([
        [key('nsp'), mp.str('/')],
        [key('type'), mp.num('fixint', 2)],
        [
          key('data'),
          mp.array([
            mp.str('ticks'),
            mp.array([mp.num('fixint', 1), tickAt('E', 'fixint', 3, 'fixint', 4)]),
          ]),
        ],
      ]),
    ),
    maps: [{ map: true, s: 'E', k: 3, t: 4 }],
    count: 2,
  });
  // A lone tick rather than an array.
  out.push({
    frame: bin(
      mp.map([
        [key('type'), mp.num('fixint', 2)],
        [key('nsp'), mp.str('/')],
        [key('data'), mp.array([mp.str('ticks'), tickAt('L', 'fixint', 5, 'fixint', 6)])],
      ]),
    ),
    maps: [{ map: true, s: 'L', k: 5, t: 6 }],
  });
  return out;
}

const sent = (hex: string): Rec => ({ sent: 'binary', hex });
const CONNECT_SENT = pkt({ type: 0, nsp: '/' }).toString('hex');

describe.skipIf(!ok)('loadgen Socket.IO client (selftest)', () => {
  it('connects, joins "all", walks ticks at every width, answers pings; cut at every offset', async () => {
    const events = [realEvent(1), realEvent(20, 1), realEvent(300, 21), ...craftedEvents()];
    expect(events.some((e) => e.frame.length > 65_535 || e.frame[1] === 126)).toBe(true); // a 16-bit length
    const other = bin(pkt({ type: 2, data: ['news', { a: [1, 2] }], nsp: '/' }));
    const input = Buffer.concat([
      HANDSHAKE,
      OPEN,
      CONNECT_REPLY,
      JOIN_ACK,
      ...events.slice(0, 3).map((e) => e.frame),
      text('2'),
      ...events.slice(3).map((e) => e.frame),
      other,
      text('6'), // noop
      text('2probe'),
      wsFrame(8, Buffer.from([0x03, 0xe8])),
    ]);
    const { lines, summary } = await selftest(['sio', '--splits', 'all'], input);
    const end = lines.pop();
    const tickLines = (e: Ev): Rec[] => [
      ...e.maps,
      { sio: 'ticks', stage: 3, ticks: e.maps.length },
    ];
    expect(lines).toEqual([
      { sio: 'open', stage: 1, ticks: 0 },
      { sio: 'connect', stage: 2, ticks: 0 },
      { sio: 'ack', stage: 3, ticks: 0 },
      ...events.slice(0, 3).flatMap(tickLines),
      { sio: 'ping', stage: 3, ticks: 0 },
      ...events.slice(3).flatMap(tickLines),
      { sio: 'event', stage: 3, ticks: 0 },
      { sio: 'engine', stage: 3, ticks: 0 },
      { sio: 'ping', stage: 3, ticks: 0 },
      { close: 1000 },
      sent(CONNECT_SENT),
      sent(pkt({ type: 2, nsp: '/', id: 1, data: ['subscribe', ['all']] }).toString('hex')),
      { sent: 'text', data: '3' },
      { sent: 'text', data: '3probe' },
    ]);
    expect(end).toMatchObject({
      end: true,
      state: 2,
      http_status: 101,
      rx: input.length,
      carried: 0,
    });
    expect(summary).toMatchObject({
      bytes: input.length,
      runs: input.length - 1 + 7,
      mismatches: 0,
    });
  });

  it('sends packets the real parser accepts: CONNECT to "/", then subscribe ["all"] with ack id 1', async () => {
    const { lines } = await selftest(
      ['sio', '--splits', 'none'],
      Buffer.concat([HANDSHAKE, OPEN, CONNECT_REPLY]),
    );
    const out = lines
      .filter((l) => 'sent' in l)
      .map((l) => decodePacket(Buffer.from(l.hex as string, 'hex')));
    expect(out).toEqual([
      { type: 0, nsp: '/' },
      { type: 2, nsp: '/', id: 1, data: ['subscribe', ['all']] },
    ]);
  });

  it('answers PING with PONG before and after the handshake, wherever the reads are cut', async () => {
    const input = Buffer.concat([
      HANDSHAKE,
      OPEN,
      text('2'),
      CONNECT_REPLY,
      text('2'),
      JOIN_ACK,
      text('2'),
    ]);
    const { lines, summary } = await selftest(['sio', '--splits', 'all'], input);
    const pongs = lines.filter((l) => l.sent === 'text');
    expect(pongs).toEqual([
      { sent: 'text', data: '3' },
      { sent: 'text', data: '3' },
      { sent: 'text', data: '3' },
    ]);
    expect(lines.filter((l) => l.sio === 'ping')).toHaveLength(3);
    expect(summary).toMatchObject({ mismatches: 0 });
  });

  it('as the feed: ready at the CONNECT reply, joins nothing', async () => {
    const { lines } = await selftest(
      ['sio', '--role', 'feed', '--splits', 'all'],
      Buffer.concat([HANDSHAKE, OPEN, CONNECT_REPLY, text('2')]),
    );
    expect(lines.slice(0, -1)).toEqual([
      { sio: 'open', stage: 1, ticks: 0 },
      { sio: 'connect', stage: 3, ticks: 0 },
      { sio: 'ping', stage: 3, ticks: 0 },
      sent(CONNECT_SENT),
      { sent: 'text', data: '3' },
    ]);
  });

  it('with --count, counts each batch from its array header without walking it', async () => {
    const events = [realEvent(1), realEvent(20, 1), realEvent(300, 21), ...craftedEvents()];
    const input = Buffer.concat([
      HANDSHAKE,
      OPEN,
      CONNECT_REPLY,
      JOIN_ACK,
      ...events.map((e) => e.frame),
    ]);
    const { lines, summary } = await selftest(['sio', '--count', '--splits', 'step:7'], input);
    const ticks = lines.filter((l) => l.sio === 'ticks');
    expect(ticks.map((l) => l.ticks)).toEqual(events.map((e) => e.count ?? e.maps.length));
    expect(lines.some((l) => l.map === true)).toBe(false);
    expect(summary).toMatchObject({ mismatches: 0 });
  });

  it('reports malformed or foreign packets as bad and reads on', async () => {
    const good = realEvent(2);
    const goodPayload = pkt({ type: 2, data: ['ticks', [{ s: 'S1', k: 1, t: T }]], nsp: '/' });
    const bad = [
      text('40'), // a text Socket.IO packet: not the msgpack parser's
      text('9'),
      bin(goodPayload.subarray(0, goodPayload.length - 1)), // truncated
      bin(Buffer.concat([goodPayload, Buffer.from([0xc0])])), // trailing bytes
      bin(pkt({ type: 2, data: ['ticks', []], nsp: '/admin' })), // another namespace
      bin(pkt({ type: 5, data: ['ticks', []], nsp: '/' })), // binary event: never sent by this parser
      bin(pkt({ type: 2, data: [], nsp: '/' })), // no event name
      bin(pkt({ type: 2, data: [1, []], nsp: '/' })), // a name that is not a string
      bin(pkt({ type: 2, nsp: '/' })), // an event without data
      bin(mp.array([mp.num('fixint', 2)])), // not a map
      bin(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])),
    ];
    const input = Buffer.concat([HANDSHAKE, OPEN, CONNECT_REPLY, JOIN_ACK, ...bad, good.frame]);
    const { lines, summary } = await selftest(['sio', '--splits', 'all'], input);
    const kinds = lines.filter((l) => 'sio' in l).map((l) => l.sio);
    expect(kinds).toEqual(['open', 'connect', 'ack', ...bad.map(() => 'bad'), 'ticks']);
    expect(lines.filter((l) => l.map === true && l.s === 'S0')).toHaveLength(1); // the good frame's first tick
    expect(summary).toMatchObject({ mismatches: 0 });
  });

  it('counts a CONNECT_ERROR and a DISCONNECT as such', async () => {
    const input = Buffer.concat([
      HANDSHAKE,
      OPEN,
      bin(pkt({ type: 4, data: { message: 'Invalid namespace' }, nsp: '/' })),
      bin(pkt({ type: 1, nsp: '/' })),
    ]);
    const { lines } = await selftest(['sio', '--splits', 'none'], input);
    expect(lines.filter((l) => 'sio' in l)).toEqual([
      { sio: 'open', stage: 1, ticks: 0 },
      { sio: 'connect_error', stage: 1, ticks: 0 },
      { sio: 'disconnect', stage: 1, ticks: 0 },
    ]);
  });
});

describe.skipIf(!ok)('loadgen Socket.IO feed frames', () => {
  for (const [batch, symbols] of [
    [1, 10],
    [10, 12],
    [100, 1000],
  ] as const) {
    it(`EVENT "ticks" with an array of ${batch}, read by the real parser`, async () => {
      const r = await execLoadgen(
        [
          'selftest',
          'feed',
          '--format',
          'socketio',
          '--batch',
          batch,
          '--symbols',
          symbols,
          '--frames',
          4,
        ],
        { timeoutMs: 10_000 },
      );
      expect(r.code).toBe(0);
      const width = String(symbols - 1).length;
      r.stdout
        .trim()
        .split('\n')
        .forEach((hex, j) => {
          const f = unframe(hex);
          expect(f.opcode).toBe(2);
          const p = decodePacket(f.payload);
          expect(p.type).toBe(2);
          expect(p.nsp).toBe('/');
          const [name, ticks] = p.data as [string, Rec[]];
          expect(name).toBe('ticks');
          expect(Array.isArray(ticks)).toBe(true); // the peer's handler drops anything else
          expect(ticks).toEqual(
            Array.from({ length: batch }, (_, i) => {
              const g = j * batch + i;
              return {
                s: `S${String(g % symbols).padStart(width, '0')}`,
                p: 100.25,
                q: 1,
                t: 1_700_000_000_000_000 + j * 1000,
                k: Math.floor(g / symbols) + 1,
              };
            }),
          );
        });
    });
  }
});

/** Starts bench/peers/socketio.mjs on a free port. */
async function startPeer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'bench/peers/socketio.mjs'), '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer did not listen: ${err}`)), 10_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`peer exited ${code}: ${err}`)));
  });
  return { child, port };
}

describe.skipIf(!ok)('loadgen against the Socket.IO peer', () => {
  let peer: { child: ChildProcess; port: number };
  beforeAll(async () => {
    peer = await startPeer();
  });
  afterAll(() => {
    peer?.child.kill('SIGTERM');
  });

  it('delivers every single-tick EVENT to every subscriber in order', async () => {
    const r = await runLoadgen(
      [
        'run',
        '--peer',
        'socketio',
        '--port',
        peer.port,
        '--subs',
        10,
        '--symbols',
        10,
        '--rate',
        1000,
        '--duration',
        1,
        '--drain-ms',
        5000,
        '--server-pid',
        peer.child.pid!,
      ],
      { timeoutMs: 20_000 },
    );
    expect(r).toMatchObject({
      peer: 'socketio',
      status: 'ok',
      connected: 10,
      sent_ticks: 1000,
      sent_frames: 1000,
      expected: 10_000,
      delivered: 10_000,
      order_errors: 0,
      parse_errors: 0,
      before_ready: 0,
      error_replies: 0,
      feed_error_replies: 0,
      closed: 0,
      feed_closed: false,
    });
    expect((r.latency_us as { count: number }).count).toBe(10_000);
    expect(r.server_cpu_s).toBeGreaterThanOrEqual(0);
  });

  it('delivers batches of 100, walking one subscriber in three and counting the others', async () => {
    const r = await runLoadgen(
      [
        'run',
        '--peer',
        'socketio',
        '--port',
        peer.port,
        '--subs',
        9,
        '--symbols',
        100,
        '--rate',
        10_000,
        '--batch',
        100,
        '--duration',
        0.5,
        '--sample',
        3,
        '--drain-ms',
        5000,
      ],
      { timeoutMs: 20_000 },
    );
    expect(r).toMatchObject({
      status: 'ok',
      sampled: 3,
      sent_frames: 50,
      expected: 45_000,
      delivered: 45_000,
      order_errors: 0,
      parse_errors: 0,
      closed: 0,
    });
    expect((r.latency_us as { count: number }).count).toBe(15_000); // the sampled three only
  });
});

describe.skipIf(!ok)('loadgen Socket.IO heartbeat', () => {
  // The peer's handlers, on a server that pings every 100 ms and drops a
  // connection whose pong is 400 ms late: a run of 1.5 s survives only if
  // every subscriber and the feed answer.
  let http: HttpServer;
  let io: Server;
  let port = 0;
  const pongs = new Map<string, number>();
  beforeAll(async () => {
    http = createServer();
    io = new Server(http, {
      transports: ['websocket'],
      parser,
      pingInterval: 100,
      pingTimeout: 400,
    });
    io.engine.on(
      'connection',
      (s: { id: string; on: (e: string, f: (p: { type: string }) => void) => void }) => {
        pongs.set(s.id, 0);
        s.on('packet', (p) => {
          if (p.type === 'pong') pongs.set(s.id, pongs.get(s.id)! + 1);
        });
      },
    );
    io.on('connection', (socket) => {
      socket.on('ticks', (batch: unknown) => {
        if (Array.isArray(batch)) io.to('all').emit('ticks', batch);
      });
      socket.on('subscribe', (topics: unknown, ack: unknown) => {
        if (Array.isArray(topics)) void socket.join(topics.map(String));
        if (typeof ack === 'function') (ack as (v: string) => void)('ok');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await io.close(); // closes the HTTP server too
  });

  it('answers every ping, so nobody is dropped over many intervals', async () => {
    const r = await runLoadgen(
      [
        'run',
        '--peer',
        'socketio',
        '--port',
        port,
        '--subs',
        5,
        '--symbols',
        10,
        '--rate',
        200,
        '--duration',
        1.5,
        '--drain-ms',
        3000,
      ],
      { timeoutMs: 20_000 },
    );
    expect(r).toMatchObject({
      status: 'ok',
      connected: 5,
      expected: 1500,
      delivered: 1500,
      closed: 0,
      feed_closed: false,
    });
    expect(pongs.size).toBe(6); // five subscribers and the feed
    for (const n of pongs.values()) expect(n).toBeGreaterThan(0);
  });
});
