/**
 * An unfinished message on /stream holds at most uWS's cap there, four times
 * --max-stream-frame: a fragment (or fragments) that would take a message
 * past it is refused while it arrives, and the connection is cut without a
 * close frame. Before, the cap was at least 1 MiB, and such a message was
 * held for as long as the client kept sending a byte now and then (uWS resets
 * the idle timer on any byte, and gives the application no event for a
 * fragment). Messages up to the cap still get the proper 1009 close.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pack, unpack } from '../helpers/clients.js';
import { type FrameSpec, Opcode, RawWebSocket } from '../helpers/raw-ws.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { CloseCode, ErrorCode } from '../../src/protocol/codes.js';

const LIMIT = 1024;
/** The documented cap: four times the limit (docs/protocol.md, "Limits"). */
const CAP = 4 * LIMIT;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxStreamFrame: LIMIT });
});

afterAll(async () => {
  await ts.stop();
});

/**
 * Sends `frames`, then a ping, and says which came first: the pong (the
 * server still holds the connection and what it sent) or the end of the
 * connection. uWS handles a connection's frames in order, so the answer
 * needs no waiting for time to pass.
 */
async function pongOrEnd(ws: RawWebSocket, frames: readonly FrameSpec[]): Promise<string> {
  const pong = ws
    .nextFrame((f) => f.opcode === Opcode.Pong)
    .then(
      () => 'pong',
      () => 'ended',
    );
  ws.sendAll([...frames, { opcode: Opcode.Ping, payload: 'probe' }]);
  return pong;
}

async function expectCut(ws: RawWebSocket): Promise<void> {
  const end = await ws.waitEnd();
  expect(['fin', 'reset']).toContain(end.how);
  expect(end.closeFrame).toBeUndefined();
}

async function expectOthersServed(): Promise<void> {
  const other = await ts.stream();
  other.sendPack({ op: 'ping', id: 'other' });
  expect(await other.nextOp('pong')).toMatchObject({ id: 'other' });
  await other.close();
}

test('a non-final fragment longer than the cap: cut while it arrives, never held', async () => {
  const ws = await RawWebSocket.connect(ts.port, '/stream');
  const first = await pongOrEnd(ws, [
    { opcode: Opcode.Binary, fin: false, payload: new Uint8Array(CAP + 1) },
  ]);
  expect(first).toBe('ended');
  await expectCut(ws);
  await expectOthersServed();
});

test('small fragments that add up past the cap: cut at the one that crosses it', async () => {
  const ws = await RawWebSocket.connect(ts.port, '/stream');
  const piece = new Uint8Array(LIMIT);
  const frames: FrameSpec[] = [{ opcode: Opcode.Binary, fin: false, payload: piece }];
  for (let i = 0; i < 4; i++)
    frames.push({ opcode: Opcode.Continuation, fin: false, payload: piece });
  const first = await pongOrEnd(ws, frames);
  expect(first).toBe('ended');
  await expectCut(ws);
  await expectOthersServed();
});

test('an unfinished message up to the cap is held (pong between fragments), then 1009 once complete', async () => {
  const ws = await RawWebSocket.connect(ts.port, '/stream');
  const piece = new Uint8Array(LIMIT);
  const frames: FrameSpec[] = [{ opcode: Opcode.Binary, fin: false, payload: piece }];
  for (let i = 0; i < 3; i++)
    frames.push({ opcode: Opcode.Continuation, fin: false, payload: piece });
  expect(await pongOrEnd(ws, frames)).toBe('pong');
  // The last, empty fragment completes a message of exactly CAP bytes.
  ws.send({ opcode: Opcode.Continuation, fin: true, payload: new Uint8Array(0) });
  const end = await ws.waitEnd();
  expect(end.closeFrame?.code).toBe(CloseCode.MessageTooBig);
  expect(end.closeFrame?.reason.startsWith(ErrorCode.PayloadTooLarge)).toBe(true);
});

test('a control message split into fragments under the limit is answered as usual', async () => {
  const ws = await RawWebSocket.connect(ts.port, '/stream');
  const message = pack({ op: 'ping', id: 'split' });
  ws.sendAll([
    { opcode: Opcode.Binary, fin: false, payload: message.subarray(0, 3) },
    { opcode: Opcode.Continuation, fin: false, payload: message.subarray(3, 6) },
    { opcode: Opcode.Continuation, fin: true, payload: message.subarray(6) },
  ]);
  const reply = await ws.nextFrame((f) => f.opcode === Opcode.Binary);
  expect(unpack(reply.payload)).toMatchObject({ op: 'pong', id: 'split' });
  ws.destroy();
});
