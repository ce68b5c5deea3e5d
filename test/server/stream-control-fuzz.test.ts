/**
 * Structure-aware fuzzing of /stream control messages against a real
 * server (fast-check, fixed seed: fast-check prints it with the failing
 * frame). Frames are control messages of any shape (fc.anything and
 * fc.letrec values with odd keys such as __proto__, big integers, NaN,
 * strings with lone surrogates, huge arrays), nesting thousands of levels
 * deep, odd JSON texts, and mutated or truncated encodings of all of these;
 * sent as MessagePack binary frames and as JSON text frames on both
 * MessagePack and JSON connections.
 *
 * Each frame must be answered with a reply (subscribed, unsubscribed, pong)
 * or {op:"error"} with a known code, in the connection's format, or end the
 * connection with a close frame carrying a known code and reason (1009
 * payload_too_large for a frame over the limit; a frame over four times the
 * limit may also be cut by uWS itself, without a close frame, as documented
 * in docs/reliability.md). Never 1011 internal_error:
 * that is the last-resort guard catching a bug. Throughout, a bystander
 * keeps receiving updates, and at the end the guard has caught nothing.
 *
 * The control budget is off (controlRate 0) so that every frame reaches the
 * parser and the subscribe path instead of being answered rate_limited.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CloseCode, ErrorCode } from '../../src/protocol/codes.js';
import { type TestClient, unpack } from '../helpers/clients.js';
import { type Frame, LIVE, controlFrame } from '../helpers/control-frames.js';
import { handlerErrorsCaught } from '../helpers/metrics.js';
import { Opcode, type RawFrame, RawWebSocket } from '../helpers/raw-ws.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const SEED = 0x12_0013;
const RUNS = 250;
/** The bystander is checked every this many frames. */
const BYSTANDER_EVERY = 25;
const REPLY_OPS = new Set(['subscribed', 'unsubscribed', 'pong', 'error']);
const REPLY_CODES = new Set<string>([
  ErrorCode.BadRequest,
  ErrorCode.RateLimited,
  ErrorCode.TooManySubscriptions,
]);
const CLOSES: ReadonlyMap<number, string> = new Map([
  [CloseCode.MessageTooBig, ErrorCode.PayloadTooLarge],
  [CloseCode.PolicyViolation, ErrorCode.RateLimited],
]);
/** Longest error message expected: messages quote clients' values cut short. */
const MAX_MESSAGE = 300;

let ts: TestServer;
let feed: TestClient;
let bystander: TestClient;
let price = 0;
const conns: { msgpack?: RawWebSocket; json?: RawWebSocket } = {};

beforeAll(async () => {
  ts = await startServer({ controlRate: 0 });
  feed = await ts.feed();
  bystander = await ts.stream(`symbols=${LIVE}`);
  await bystander.nextOp('snapshot');
});

afterAll(async () => {
  conns.msgpack?.destroy();
  conns.json?.destroy();
  await ts.stop();
});

/** The fuzz connection of that format, reconnected when the last one was closed. */
async function connection(format: 'msgpack' | 'json'): Promise<RawWebSocket> {
  const open = conns[format];
  if (open !== undefined && !open.isEnded) return open;
  const ws = await RawWebSocket.connect(ts.port, `/stream?format=${format}`);
  conns[format] = ws;
  return ws;
}

function decode(f: RawFrame): unknown {
  return f.opcode === Opcode.Text ? JSON.parse(f.payload.toString('utf8')) : unpack(f.payload);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A reply to a control message (not a snapshot, not an update), or the close. */
function isAnswer(f: RawFrame): boolean {
  if (f.opcode === Opcode.Close) return true;
  if (f.opcode !== Opcode.Text && f.opcode !== Opcode.Binary) return false;
  const m = decode(f);
  return isRecord(m) && typeof m.op === 'string' && REPLY_OPS.has(m.op);
}

/**
 * Sends one frame and checks what comes back. Returns the outcome ('pong',
 * 'error bad_request', 'close 1009', …); throws when it is not an allowed one.
 */
async function exchange(format: 'msgpack' | 'json', f: Frame): Promise<string> {
  const ws = await connection(format);
  ws.send({ opcode: f.text ? Opcode.Text : Opcode.Binary, payload: f.payload });
  let answer: RawFrame;
  try {
    answer = await ws.nextFrame(isAnswer, 10_000);
  } catch (err) {
    const end = ws.endInfo;
    if (end === undefined) throw new Error(`no answer: ${String(err)}`);
    // Past uWS's own cap (4 x --max-stream-frame) uWS cuts the socket itself.
    if (f.payload.length > 4 * ts.server.config.maxStreamFrame) return 'cut by uWS';
    throw new Error(`connection ended without a close frame (${end.how})`);
  }
  if (answer.opcode === Opcode.Close) {
    const code = answer.payload.length >= 2 ? answer.payload.readUInt16BE(0) : undefined;
    const reason = answer.payload.subarray(2).toString('utf8');
    const expected = code === undefined ? undefined : CLOSES.get(code);
    if (expected === undefined || !reason.startsWith(`${expected}:`)) {
      throw new Error(`closed with ${String(code)} ${JSON.stringify(reason)}`);
    }
    await ws.ended;
    return `close ${code}`;
  }
  if ((answer.opcode === Opcode.Text) !== (format === 'json')) {
    throw new Error(
      `a ${answer.opcode === Opcode.Text ? 'text' : 'binary'} reply on a ${format} connection`,
    );
  }
  const m = decode(answer) as Record<string, unknown>;
  if (m.op !== 'error') return String(m.op);
  if (typeof m.code !== 'string' || !REPLY_CODES.has(m.code)) {
    throw new Error(`error code ${JSON.stringify(m.code)}`);
  }
  if (typeof m.message !== 'string' || m.message.length > MAX_MESSAGE) {
    throw new Error(
      `an error message of ${String((m.message as string | undefined)?.length)} characters`,
    );
  }
  return `error ${m.code}`;
}

/** A frame, short enough for a failure message. */
function show(f: Frame | undefined): string {
  if (f === undefined) return 'no frame';
  if (typeof f.payload === 'string') {
    return `text frame of ${f.payload.length} characters: ${JSON.stringify(f.payload.slice(0, 300))}`;
  }
  return `binary frame of ${f.payload.length} bytes: ${Buffer.from(f.payload.subarray(0, 200)).toString('hex')}`;
}

async function expectBystanderServed(): Promise<void> {
  const p = ++price;
  feed.sendPack({ s: LIVE, p });
  expect((await bystander.update(10_000)).p).toBe(p);
}

test(`${RUNS} fuzzed control frames: each answered with a reply, a known error or a known close`, async () => {
  let runs = 0;
  const outcomes = new Map<string, number>();
  const out = await fc.check(
    fc.asyncProperty(
      controlFrame,
      fc.constantFrom<'msgpack' | 'json'>('msgpack', 'json'),
      async (f, format) => {
        if (++runs % BYSTANDER_EVERY === 0) await expectBystanderServed();
        const outcome = await exchange(format, f);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      },
    ),
    // No shrinking: every step is a network exchange with a stateful server.
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  if (out.failed) {
    const [f, format] = out.counterexample ?? [];
    throw new Error(
      `fuzz failed (seed ${out.seed}, path ${out.counterexamplePath ?? '-'}, run ${out.numRuns}): ` +
        `${String(out.errorInstance)}; on a ${String(format)} connection, ${show(f)}`,
    );
  }
  // The fuzz reached every path: replies of each kind, refusals, and closes.
  for (const outcome of ['subscribed', 'unsubscribed', 'pong', 'error bad_request', 'close 1009']) {
    expect(outcomes.get(outcome) ?? 0, outcome).toBeGreaterThan(0);
  }
  await expectBystanderServed();
  expect((await httpGet(ts.httpUrl('/healthz'))).status).toBe(200);
  expect(await handlerErrorsCaught(ts.httpUrl)).toEqual([]);
});
