/**
 * A feed closed as a slow consumer that never reads again: the close frame
 * could not reach it, so once --stall-timeout passes its TCP connection is
 * dropped (no close frame), which frees its queue and its slot.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pack, waitFor } from '../helpers/clients.js';
import { Opcode, RawWebSocket, encodeFrame } from '../helpers/raw-ws.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxBackpressure: 64 * 1024, stallTimeoutS: 1 });
});

afterAll(async () => {
  await ts.stop();
});

test('a feed that never reads its acks is counted, then dropped after --stall-timeout', async () => {
  const ws = await RawWebSocket.connect(ts.port, '/feed?ack=1', {
    headers: { Authorization: `Bearer ${FEED_TOKEN}` },
  });
  ws.pauseReading();
  // Frames with an invalid tick: a bad_tick error and an ack each (~140 bytes).
  const frame = encodeFrame({ opcode: Opcode.Binary, payload: pack({ s: 'FAS.A' }) });
  const burst = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  for (let i = 0; i < 200; i++) ws.write(burst);
  await waitFor(
    () => ts.server.admission.refused.slowConsumerFeedCloses === 1,
    'the feed to be closed as a slow consumer',
    30_000,
  );
  await waitFor(
    () => ts.server.connections.feeds === 0,
    'the feed connection to be dropped',
    20_000,
  );
  // Reading again, it finds what reached its socket buffers, then the end of
  // the connection, with no close frame: the server never sent one.
  ws.resumeReading();
  const end = await ws.waitEnd(10_000);
  expect(end.how).not.toBe('destroyed');
  expect(end.closeFrame).toBeUndefined();
}, 60_000);
