/**
 * A feed that does not read its replies: a raw WebSocket client on
 * /feed?ack=1 writes `frames` copies of one frame with its TCP socket
 * paused, then reads everything the server sent, until the ack of one more
 * frame sent after it resumed (the connection stayed open) or the end of
 * the connection (it was closed).
 */
import { isRecord, unpack, waitFor } from './clients.js';
import { type EndInfo, Opcode, RawWebSocket, encodeFrame } from './raw-ws.js';
import { FEED_TOKEN } from './server.js';

export interface UnreadFeedResult {
  /** The `frame` of every ack received, in order. */
  readonly acks: readonly number[];
  /** The number of the frame sent after reading resumed (frames + 1). */
  readonly last: number;
  /** How the connection ended; undefined if it is still open (the raw socket is then destroyed). */
  readonly end: EndInfo | undefined;
}

export async function unreadFeed(
  port: number,
  payload: Uint8Array,
  frames: number,
): Promise<UnreadFeedResult> {
  const ws = await RawWebSocket.connect(port, '/feed?ack=1', {
    headers: { Authorization: `Bearer ${FEED_TOKEN}` },
  });
  ws.pauseReading();
  const frame = encodeFrame({ opcode: Opcode.Binary, payload });
  const burst = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  for (let i = 0; i < Math.ceil(frames / 1000); i++) ws.write(burst);
  // All of it handed to the kernel: the server read it while we did not read.
  await waitFor(
    () => ws.socket.writableLength === 0 || ws.socket.destroyed,
    'the frames to be written',
    30_000,
  );
  ws.resumeReading();
  const last = Math.ceil(frames / 1000) * 1000 + 1;
  ws.sendBinary(payload);
  await Promise.race([
    ws.ended,
    ws
      .nextFrame((f) => f.opcode === Opcode.Binary && ackFrame(f.payload) === last, 60_000)
      .catch(() => undefined),
  ]);
  const acks = ws.frames
    .filter((f) => f.opcode === Opcode.Binary)
    .map((f) => ackFrame(f.payload))
    .filter((n) => n !== undefined);
  const end = ws.isEnded || acks.at(-1) !== last ? await ws.waitEnd(30_000) : undefined;
  if (end === undefined) ws.destroy();
  return { acks, last, end };
}

function ackFrame(payload: Buffer): number | undefined {
  const m: unknown = unpack(payload);
  return isRecord(m) && m.op === 'ack' && typeof m.frame === 'number' ? m.frame : undefined;
}
