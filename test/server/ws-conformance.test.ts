/**
 * RFC 6455 §5–7 conformance over raw TCP, on /feed and /stream: what the
 * server (uWebSockets.js underneath) does with each protocol offence, and
 * that after every offence a healthy feed still publishes and a healthy
 * subscriber still receives.
 *
 * The expectations were first observed, then pinned. Where uWS deviates
 * from the RFC the test asserts the actual (safe) behaviour and says so:
 * - protocol errors and invalid UTF-8 "fail the connection" by closing TCP
 *   without a close frame (RFC: SHOULD send 1002/1007 first; MUST fail);
 * - the MASK bit is not checked: an unmasked client frame is read as if
 *   masked (RFC §5.1: the server MUST close), so its bytes arrive scrambled
 *   and the scanner rejects them;
 * - a binary frame inside a fragmented binary message is merged into it
 *   instead of failing the connection (§5.4);
 * - an invalid close code, a 1-byte close payload or a close reason that is
 *   not UTF-8 is answered with an empty close frame, not 1002/1007;
 *   3000–3999 and 1012–1014 are treated the same (RFC: SHOULD echo);
 * - pongs to a client that does not read are dropped past maxBackpressure on
 *   /feed (on /stream the slow-consumer sweep closes it with 1008).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CloseCode, ErrorCode } from '../../src/protocol/codes.js';
import { type TestClient, isRecord, pack, unpack, waitFor } from '../helpers/clients.js';
import {
  type EndInfo,
  type FrameSpec,
  Opcode,
  RawWebSocket,
  closePayload,
  encodeFrame,
  parseClose,
} from '../helpers/raw-ws.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';
import { FEED_MIN_FRAME_CAP } from '../../src/server/feed-route.js';
import { streamMessageCap } from '../../src/server/stream-route.js';

/** Small limits, below uWS's own caps (4x the limit; at least 16 MiB on /feed). */
const FEED_LIMIT = 4096;
const STREAM_LIMIT = 1024;
/** uWS's own frame cap: 4x the limit, at least 16 MiB on /feed. */
const FEED_CAP = Math.max(4 * FEED_LIMIT, FEED_MIN_FRAME_CAP);
const STREAM_CAP = streamMessageCap(STREAM_LIMIT);
/** Small, so that a pong backlog passes it quickly. */
const MAX_BACKPRESSURE = 64 * 1024;
const OK_SYMBOL = 'WC.OK';
/** Ticks of this symbol must never be published by an offending connection. */
const LEAK_SYMBOL = 'WC.LEAK';

let ts: TestServer;
let feed: TestClient;
let sub: TestClient;
let healthySeq = 0;

beforeAll(async () => {
  ts = await startServer({
    maxFeedFrame: FEED_LIMIT,
    maxStreamFrame: STREAM_LIMIT,
    maxBackpressure: MAX_BACKPRESSURE,
  });
  feed = await ts.feed('ack=1');
  sub = await ts.stream('symbols=*');
  await sub.nextOp('snapshot');
});

afterAll(async () => {
  await ts.stop();
});

/** A healthy feed publishes one tick and the healthy `*` subscriber gets exactly it, in order. */
async function expectOthersServed(): Promise<void> {
  const p = ++healthySeq;
  feed.sendPack({ s: OK_SYMBOL, p });
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: 1, rejected: 0 });
  // update() fails on anything else, e.g. a leaked WC.LEAK update.
  expect(await sub.update()).toMatchObject({ s: OK_SYMBOL, p, n: p });
  expect(feed.isOpen && sub.isOpen).toBe(true);
}

const ROUTES = [
  { name: '/feed', path: '/feed?ack=1' },
  { name: '/stream', path: '/stream' },
] as const;
type Route = (typeof ROUTES)[number];

function open(route: Route): Promise<RawWebSocket> {
  return RawWebSocket.connect(ts.port, route.path, {
    headers: { Authorization: `Bearer ${FEED_TOKEN}` },
  });
}

/**
 * A message that makes the application answer if it is ever delivered: a
 * tick of LEAK_SYMBOL on /feed (published and acked), a ping on /stream.
 */
function probe(route: Route): Buffer {
  return route.name === '/feed' ? pack({ s: LEAK_SYMBOL, p: 1 }) : pack({ op: 'ping', id: 'leak' });
}

/** RFC "fail the connection", as uWS does it: TCP closed, no close frame, nothing delivered. */
async function expectFailedAbruptly(ws: RawWebSocket): Promise<EndInfo> {
  const end = await ws.waitEnd(5000);
  expect(['fin', 'reset']).toContain(end.how);
  expect(end.closeFrame).toBeUndefined();
  // Not a single frame came back: the application never saw the offence.
  expect(ws.frames.map((f) => f.opcode)).toEqual([]);
  return end;
}

/** The application replies (decoded MessagePack) received on a raw connection. */
function appReplies(ws: RawWebSocket): unknown[] {
  return ws.frames.filter((f) => f.opcode === Opcode.Binary).map((f): unknown => unpack(f.payload));
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe.each(ROUTES)('$name', (route) => {
  describe('offences that fail the connection (TCP closed, no close frame)', () => {
    const p = (): Buffer => probe(route);
    const cases: [string, () => FrameSpec[]][] = [
      // §5.2: reserved opcodes.
      ...[0x3, 0x4, 0x5, 0x6, 0x7].map((op): [string, () => FrameSpec[]] => [
        `reserved data opcode 0x${op.toString(16)}`,
        () => [{ opcode: op, payload: p() }],
      ]),
      ...[0xb, 0xc, 0xd, 0xe, 0xf].map((op): [string, () => FrameSpec[]] => [
        `reserved control opcode 0x${op.toString(16)}`,
        () => [{ opcode: op, payload: 'x' }],
      ]),
      ['reserved opcode 0x3 with an empty payload', () => [{ opcode: 0x3 }]],
      // §5.2: RSV bits without a negotiated extension.
      ['RSV1 on a binary frame', () => [{ opcode: Opcode.Binary, rsv: 4, payload: p() }]],
      ['RSV2 on a binary frame', () => [{ opcode: Opcode.Binary, rsv: 2, payload: p() }]],
      ['RSV3 on a binary frame', () => [{ opcode: Opcode.Binary, rsv: 1, payload: p() }]],
      ['all RSV bits on a binary frame', () => [{ opcode: Opcode.Binary, rsv: 7, payload: p() }]],
      ['RSV1 on a ping', () => [{ opcode: Opcode.Ping, rsv: 4, payload: 'x' }]],
      [
        'RSV2 on a continuation',
        () => [
          { opcode: Opcode.Binary, fin: false, payload: p().subarray(0, 2) },
          { opcode: Opcode.Continuation, rsv: 2, payload: p().subarray(2) },
        ],
      ],
      // §5.5: control frames must not be fragmented and carry ≤ 125 bytes.
      ['a fragmented ping', () => [{ opcode: Opcode.Ping, fin: false, payload: 'x' }]],
      ['a fragmented pong', () => [{ opcode: Opcode.Pong, fin: false, payload: 'x' }]],
      [
        'a fragmented close',
        () => [{ opcode: Opcode.Close, fin: false, payload: closePayload(1000) }],
      ],
      ['a ping with 126 bytes', () => [{ opcode: Opcode.Ping, payload: new Uint8Array(126) }]],
      ['a pong with 126 bytes', () => [{ opcode: Opcode.Pong, payload: new Uint8Array(126) }]],
      [
        'a close with 126 bytes',
        () => [{ opcode: Opcode.Close, payload: closePayload(1000, 'r'.repeat(124)) }],
      ],
      [
        'a ping declaring 64 KiB (64-bit length form)',
        () => [{ opcode: Opcode.Ping, declaredLength: 65536, payload: 'x' }],
      ],
      // §5.4: fragmentation.
      [
        'a continuation frame without a start',
        () => [{ opcode: Opcode.Continuation, payload: p() }],
      ],
      [
        'a non-final continuation without a start',
        () => [{ opcode: Opcode.Continuation, fin: false, payload: p() }],
      ],
      [
        'a text frame inside a fragmented text message',
        () => [
          { opcode: Opcode.Text, fin: false, payload: '{"op":' },
          { opcode: Opcode.Text, payload: '{}' },
        ],
      ],
      [
        'a text frame inside a fragmented binary message',
        () => [
          { opcode: Opcode.Binary, fin: false, payload: p().subarray(0, 2) },
          { opcode: Opcode.Text, payload: '{}' },
        ],
      ],
      // §8.1: text frames must be valid UTF-8.
      ['a text frame with 0xff 0xfe', () => [{ opcode: Opcode.Text, payload: bytes(0xff, 0xfe) }]],
      [
        'a text frame with an overlong "/" (c0 af)',
        () => [{ opcode: Opcode.Text, payload: bytes(0x7b, 0xc0, 0xaf, 0x7d) }],
      ],
      [
        'a text frame with a UTF-16 surrogate (ed a0 80)',
        () => [{ opcode: Opcode.Text, payload: bytes(0x22, 0xed, 0xa0, 0x80, 0x22) }],
      ],
      [
        'a text frame with a code point above U+10FFFF',
        () => [{ opcode: Opcode.Text, payload: bytes(0xf4, 0x90, 0x80, 0x80) }],
      ],
      [
        'a text frame ending inside a sequence',
        () => [{ opcode: Opcode.Text, payload: bytes(0x7b, 0xe2, 0x82) }],
      ],
      [
        'a fragmented text message that is invalid only once joined',
        () => [
          { opcode: Opcode.Text, fin: false, payload: bytes(0x7b, 0xe2, 0x82) },
          { opcode: Opcode.Continuation, payload: bytes(0x28, 0x7d) },
        ],
      ],
      // §5.2 lengths: declared sizes over uWS's cap are refused before any payload arrives.
      [
        'a declared 64-bit length of 2^63-1',
        () => [{ opcode: Opcode.Binary, declaredLength: 2n ** 63n - 1n, payload: p() }],
      ],
      [
        'a declared 64-bit length with the top bit set (2^64-1)',
        () => [{ opcode: Opcode.Binary, declaredLength: 2n ** 64n - 1n, payload: p() }],
      ],
      [
        'a declared length of 2^32',
        () => [{ opcode: Opcode.Binary, declaredLength: 2n ** 32n, payload: p() }],
      ],
      [
        'a declared length of uWS cap + 1',
        () => [
          {
            opcode: Opcode.Binary,
            declaredLength: (route.name === '/feed' ? FEED_CAP : STREAM_CAP) + 1,
            payload: p(),
          },
        ],
      ],
      [
        'fragments adding up to more than the cap',
        () => {
          const cap = route.name === '/feed' ? FEED_CAP : STREAM_CAP;
          const piece = new Uint8Array(cap / 4);
          return [
            { opcode: Opcode.Binary, fin: false, payload: piece },
            ...Array.from({ length: 4 }, () => ({
              opcode: Opcode.Continuation,
              fin: false,
              payload: piece,
            })),
            { opcode: Opcode.Continuation, payload: piece },
          ];
        },
      ],
    ];

    test.each(cases)('%s', async (_name, frames) => {
      const ws = await open(route);
      ws.sendAll(frames());
      await expectFailedAbruptly(ws);
      await expectOthersServed();
    });

    test('RSV1 fails even when the client offered permessage-deflate (not negotiated)', async () => {
      const ws = await RawWebSocket.connect(ts.port, route.path, {
        headers: {
          Authorization: `Bearer ${FEED_TOKEN}`,
          'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
        },
      });
      expect(ws.responseHead.toLowerCase()).not.toContain('sec-websocket-extensions');
      ws.send({ opcode: Opcode.Binary, rsv: 4, payload: probe(route) });
      await expectFailedAbruptly(ws);
      await expectOthersServed();
    });

    test('an offence after valid traffic still fails the connection, and nothing after it is read', async () => {
      const ws = await open(route);
      ws.send({ opcode: Opcode.Ping, payload: 'before' });
      expect((await ws.nextFrame((f) => f.opcode === Opcode.Pong)).payload.toString()).toBe(
        'before',
      );
      ws.sendAll([
        { opcode: 0x5, payload: 'x' },
        { opcode: Opcode.Binary, payload: probe(route) },
      ]);
      const end = await ws.waitEnd(5000);
      expect(end.closeFrame).toBeUndefined();
      expect(ws.frames.map((f) => f.opcode)).toEqual([Opcode.Pong]);
      await expectOthersServed();
    });
  });

  describe('control frames', () => {
    test.each([
      ['empty', new Uint8Array(0)],
      ['text', Buffer.from('hello')],
      ['binary', bytes(0x00, 0xff, 0x80, 0xc1, 0x0a)],
      ['125 bytes (the maximum)', Uint8Array.from({ length: 125 }, (_, i) => i)],
    ])(
      'a ping with a %s payload gets an unmasked pong with the same payload',
      async (_n, payload) => {
        const ws = await open(route);
        ws.send({ opcode: Opcode.Ping, payload });
        const pong = await ws.nextFrame((f) => f.opcode === Opcode.Pong);
        expect(pong).toMatchObject({ fin: true, rsv: 0, masked: false });
        expect(Buffer.compare(pong.payload, Buffer.from(payload))).toBe(0);
        expect(ws.isEnded).toBe(false);
        ws.destroy();
        await expectOthersServed();
      },
    );

    test('a ping between the fragments of a message is answered, and the message still arrives', async () => {
      const ws = await open(route);
      const msg = probe(route);
      ws.sendAll([
        { opcode: Opcode.Binary, fin: false, payload: msg.subarray(0, 3) },
        { opcode: Opcode.Ping, payload: 'mid' },
        { opcode: Opcode.Continuation, fin: false, payload: msg.subarray(3, 5) },
        { opcode: Opcode.Continuation, payload: msg.subarray(5) },
      ]);
      const pong = await ws.nextFrame((f) => f.opcode === Opcode.Pong);
      expect(pong.payload.toString()).toBe('mid');
      const reply = unpack((await ws.nextFrame((f) => f.opcode === Opcode.Binary)).payload);
      if (route.name === '/feed') {
        expect(reply).toEqual({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
        expect(await sub.update()).toMatchObject({ s: LEAK_SYMBOL, p: 1 });
      } else {
        expect(reply).toMatchObject({ op: 'pong', id: 'leak' });
      }
      ws.destroy();
      await expectOthersServed();
    });

    test('an unsolicited pong is ignored; the connection stays usable', async () => {
      const ws = await open(route);
      ws.send({ opcode: Opcode.Pong, payload: 'unsolicited' });
      ws.send({ opcode: Opcode.Ping, payload: 'after' });
      const pong = await ws.nextFrame((f) => f.opcode === Opcode.Pong);
      expect(pong.payload.toString()).toBe('after');
      expect(ws.frames.map((f) => f.opcode)).toEqual([Opcode.Pong]);
      expect(ws.isEnded).toBe(false);
      ws.destroy();
      await expectOthersServed();
    });
  });

  describe('close handshake (§5.5.1, §7.4)', () => {
    test.each([
      [1000, 'bye'],
      [1001, ''],
      [1002, 'proto'],
      [1003, ''],
      [1007, ''],
      [1008, 'policy'],
      [1009, ''],
      [1010, ''],
      [1011, ''],
      [4000, 'app'],
      [4999, 'last'],
      [1000, 'r'.repeat(123)],
      [1000, 'é€😀'],
    ])(
      'a valid close %i "%s" is echoed with the same code and reason, then TCP closes',
      async (code, reason) => {
        const ws = await open(route);
        ws.sendClose(code, reason);
        const end = await ws.waitEnd(5000);
        expect(end.how).toBe('fin');
        expect(end.closeFrame).toEqual({ code, reason });
        const close = ws.frames.find((f) => f.opcode === Opcode.Close)!;
        expect(close).toMatchObject({ fin: true, rsv: 0, masked: false });
        await expectOthersServed();
      },
    );

    test('an empty close frame is answered with an empty close frame', async () => {
      const ws = await open(route);
      ws.sendClose();
      const end = await ws.waitEnd(5000);
      expect(end.how).toBe('fin');
      expect(end.closeFrame).toEqual({ code: undefined, reason: '' });
      await expectOthersServed();
    });

    // RFC: an endpoint receiving these MAY/SHOULD fail with 1002 (1007 for the
    // reason); uWS closes with an empty close frame instead. 3000–3999 and
    // 1012–1014 are valid codes uWS does not echo (the RFC only says SHOULD).
    const notEchoed: [string, Uint8Array][] = [
      ['code 0', closePayload(0)],
      ['code 999', closePayload(999)],
      ['code 1004 (reserved)', closePayload(1004)],
      ['code 1005 (must not be sent)', closePayload(1005)],
      ['code 1006 (must not be sent)', closePayload(1006)],
      ['code 1015 (must not be sent)', closePayload(1015)],
      ['code 1016 (unassigned)', closePayload(1016)],
      ['code 2999', closePayload(2999)],
      ['code 5000', closePayload(5000)],
      ['code 65535', closePayload(65535)],
      ['a 1-byte payload', bytes(0x03)],
      ['a reason that is not UTF-8', closePayload(1000, bytes(0x61, 0xc3, 0x28))],
      ['a reason with a surrogate', closePayload(1000, bytes(0xed, 0xa0, 0x80))],
      ['code 1012 (IANA: service restart)', closePayload(1012)],
      ['code 3000 (registered range)', closePayload(3000, 'lib')],
      ['code 3999', closePayload(3999)],
    ];

    test.each(notEchoed)(
      'close with %s: an empty close frame back, then TCP closes',
      async (_n, payload) => {
        const ws = await open(route);
        ws.send({ opcode: Opcode.Close, payload });
        const end = await ws.waitEnd(5000);
        expect(end.how).toBe('fin');
        expect(end.closeFrame).toEqual({ code: undefined, reason: '' });
        expect(ws.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
        await expectOthersServed();
      },
    );

    test('data frames after a close frame are not delivered', async () => {
      const ws = await open(route);
      ws.sendAll([
        { opcode: Opcode.Close, payload: closePayload(1000) },
        { opcode: Opcode.Binary, payload: probe(route) },
        { opcode: Opcode.Ping, payload: 'late' },
      ]);
      const end = await ws.waitEnd(5000);
      expect(end.closeFrame).toEqual({ code: 1000, reason: '' });
      expect(ws.frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
      await expectOthersServed();
    });

    test('a close frame followed by a TCP half-close (FIN): the server still closes its side', async () => {
      const ws = await open(route);
      ws.send({ opcode: Opcode.Close, payload: closePayload(1000) });
      ws.socket.end();
      const end = await ws.waitEnd(5000);
      expect(['fin', 'reset']).toContain(end.how);
      await expectOthersServed();
    });
  });

  describe('deviations from the RFC that stay safe', () => {
    test('an unmasked frame is not refused (uWS reads a mask anyway): it arrives scrambled and is rejected by the app', async () => {
      const ws = await open(route);
      const msg = probe(route);
      // uWS ignores the MASK bit and takes the next 4 bytes as the key, so it
      // waits for 4 more bytes than the header announces.
      ws.send({ opcode: Opcode.Binary, mask: false, payload: msg });
      ws.write(new Uint8Array(4));
      const reply = unpack((await ws.nextFrame((f) => f.opcode === Opcode.Binary)).payload);
      expect(reply).toMatchObject({
        op: 'error',
        code: route.name === '/feed' ? ErrorCode.BadFrame : ErrorCode.BadRequest,
      });
      expect(ws.isEnded).toBe(false);
      // The connection stays in sync and usable for properly masked frames.
      ws.send({ opcode: Opcode.Binary, payload: msg });
      const isAnswer = (r: unknown): boolean =>
        isRecord(r) && (route.name === '/feed' ? r.op === 'ack' && r.frame === 2 : r.op === 'pong');
      const next = unpack(
        (await ws.nextFrame((f) => f.opcode === Opcode.Binary && isAnswer(unpack(f.payload))))
          .payload,
      );
      if (route.name === '/feed') {
        expect(next).toEqual({ op: 'ack', frame: 2, accepted: 1, rejected: 0 });
        expect(await sub.update()).toMatchObject({ s: LEAK_SYMBOL });
      } else {
        expect(next).toMatchObject({ op: 'pong', id: 'leak' });
      }
      ws.destroy();
      await expectOthersServed();
    });

    test.each([
      ['binary', Opcode.Binary],
      ['text', Opcode.Text],
    ])(
      'a binary frame inside a fragmented %s message is merged, not refused; nothing leaks',
      async (_n, firstOpcode) => {
        const ws = await open(route);
        // 0xc1 is never valid MessagePack, "{" never a valid tick: no merged message can be valid.
        ws.sendAll([
          {
            opcode: firstOpcode,
            fin: false,
            payload: firstOpcode === Opcode.Binary ? bytes(0xc1) : '{',
          },
          { opcode: Opcode.Binary, payload: probe(route) },
          {
            opcode: Opcode.Continuation,
            payload: firstOpcode === Opcode.Binary ? bytes(0xc1) : '}',
          },
        ]);
        const errCode = route.name === '/feed' ? ErrorCode.BadFrame : ErrorCode.BadRequest;
        await waitFor(
          () => appReplies(ws).filter((r) => isRecord(r) && r.op === 'error').length >= 2,
          'two error replies',
        );
        const replies = appReplies(ws);
        if (route.name === '/feed') {
          expect(replies).toEqual([
            expect.objectContaining({ op: 'error', code: errCode }),
            { op: 'ack', frame: 1, accepted: 0, rejected: 0 },
            expect.objectContaining({ op: 'error', code: errCode }),
            { op: 'ack', frame: 2, accepted: 0, rejected: 0 },
          ]);
        } else {
          expect(replies).toEqual([
            expect.objectContaining({ op: 'error', code: errCode }),
            expect.objectContaining({ op: 'error', code: errCode }),
          ]);
        }
        expect(ws.isEnded).toBe(false);
        ws.destroy();
        await expectOthersServed();
      },
    );

    test('two non-final binary frames in a row: nothing delivered, the next frame fails the connection', async () => {
      const ws = await open(route);
      ws.sendAll([
        { opcode: Opcode.Binary, fin: false, payload: bytes(0xc1) },
        { opcode: Opcode.Binary, fin: false, payload: probe(route) },
      ]);
      // uWS holds the second as a nested message; any frame after it is refused.
      ws.send({ opcode: Opcode.Ping, payload: 'sync' });
      await expectFailedAbruptly(ws);
      await expectOthersServed();
    });
  });

  test('a ping flood from a client that does not read: /feed drops pongs, /stream closes 1008', async () => {
    const pings = 150_000; // 19 MB of pongs: far more than kernel buffers + maxBackpressure
    const ws = await open(route);
    const closed = ts.server.connections.slowConsumersClosed;
    ws.pauseReading();
    const ping = encodeFrame({ opcode: Opcode.Ping, payload: new Uint8Array(125).fill(7) });
    const burst = Buffer.concat(Array.from({ length: 1000 }, () => ping));
    for (let i = 0; i < pings / 1000; i++) ws.write(burst);
    // All of it handed to the kernel: the server has been reading while we were not.
    await waitFor(
      () => ws.socket.writableLength === 0 || ws.socket.destroyed,
      'the flood to be written',
      20_000,
    );
    if (route.name === '/stream') {
      // The slow-consumer sweep counts the queued pongs and closes it as a slow
      // consumer: once it reads its queue down, 1008 slow_consumer.
      await waitFor(
        () => ts.server.connections.slowConsumersClosed > closed,
        'the flooding subscriber to be closed',
        20_000,
      );
      ws.resumeReading();
      const end = await ws.waitEnd(15_000);
      expect(end.closeFrame?.code).toBe(CloseCode.PolicyViolation);
      expect(end.closeFrame?.reason.startsWith(ErrorCode.SlowConsumer)).toBe(true);
    } else {
      // /feed has no slow-consumer sweep: uWS drops pongs past maxBackpressure (observed:
      // about a third of 100,000 arrive) and the connection stays open. How many are
      // dropped depends on kernel buffer sizes, so only the bound is asserted (RFC 6455
      // §5.5.3 allows answering only the latest ping).
      ws.resumeReading();
      // A ping that arrives while the queue is still over the limit is dropped too, so
      // ask again until one is answered: that proves the connection drained and works.
      let asked = 0;
      const lastPong = ws.nextFrame(
        (f) => f.opcode === Opcode.Pong && f.payload.toString().startsWith('last'),
        20_000,
      );
      const asking = setInterval(() => {
        ws.send({ opcode: Opcode.Ping, payload: `last${++asked}` });
      }, 100);
      const last = await lastPong.finally(() => clearInterval(asking));
      expect(last.masked).toBe(false);
      const pongs = ws.frames.filter((f) => f.opcode === Opcode.Pong);
      console.info(`ping flood on /feed: ${pongs.length} pongs for ${pings + asked} pings`);
      expect(pongs.length).toBeGreaterThan(0);
      expect(pongs.length).toBeLessThanOrEqual(pings + asked);
      expect(
        pongs.every((f) => f.payload.length === 125 || f.payload.toString().startsWith('last')),
      ).toBe(true);
      expect(ws.isEnded).toBe(false);
      ws.destroy();
    }
    await expectOthersServed();
  }, 40_000);

  test('a fragmented message between the limit and uWS cap: 1009 payload_too_large', async () => {
    const limit = route.name === '/feed' ? FEED_LIMIT : STREAM_LIMIT;
    const piece = new Uint8Array(limit / 2 + 1);
    const ws = await open(route);
    ws.sendAll([
      { opcode: Opcode.Binary, fin: false, payload: piece },
      { opcode: Opcode.Continuation, payload: piece },
    ]);
    const end = await ws.waitEnd(5000);
    expect(end.closeFrame?.code).toBe(CloseCode.MessageTooBig);
    expect(end.closeFrame?.reason.startsWith(ErrorCode.PayloadTooLarge)).toBe(true);
    await expectOthersServed();
  });
});

test('after all offences: no leaked tick, connections and counters consistent, new clients served', async () => {
  await waitFor(async () => {
    const s = await ts.stats();
    return s.connections.feeds === 1 && s.connections.subscribers === 1;
  }, 'the offending connections to be gone');
  const stats = await ts.stats();
  // Published: the healthy ticks, plus the two deliberate LEAK ticks (fragmented
  // with a ping in between; properly masked after an unmasked frame).
  expect(stats.ticks.published).toBe(healthySeq + 2);
  expect(stats.symbols).toBe(2);
  const fresh = await ts.stream();
  fresh.sendPack({ op: 'ping', id: 'fresh' });
  expect(await fresh.nextOp('pong')).toMatchObject({ id: 'fresh' });
  await expectOthersServed();
  // Sanity for the close parser used above.
  expect(parseClose(closePayload(1000, 'x'))).toEqual({ code: 1000, reason: 'x' });
});
