/**
 * Frames still unacknowledged when the server closes the connection with a
 * coded reason reject with that code (and the close code), not a generic
 * `connection_lost`.
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../../../src/protocol/codes.js';
import type { Tick } from '../../../../src/protocol/types.js';
import { FEED_TOKEN, startServer } from '../../../../test/helpers/server.js';
import { FeedClient } from '../../src/index.js';
import { FakeSocket, nextSocket } from '../fake-socket.js';
import { cleanups } from '../helpers.js';

const onCleanup = cleanups();

it('a frame over the server limit: its publish rejects with payload_too_large and 1009', async () => {
  const s = await startServer({ maxFeedFrame: 1024 });
  onCleanup(() => s.stop());
  const feed = new FeedClient({
    url: `ws://127.0.0.1:${s.port}`,
    token: FEED_TOKEN,
    WebSocket,
    ack: true,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
  });
  onCleanup(() => feed.close());
  expect(await feed.publish({ s: 'CC', p: 1 })).toMatchObject({ accepted: 1 });
  const big: Tick = { s: 'CC', p: 2 };
  for (let i = 0; i < 10; i++) (big as Record<string, unknown>)[`k${i}`] = 'x'.repeat(200);
  await expect(feed.publish(big)).rejects.toMatchObject({
    code: ErrorCode.PayloadTooLarge,
    closeCode: CloseCode.MessageTooBig,
  });
  // The client reconnects and goes on.
  expect(await feed.publish({ s: 'CC', p: 3 })).toMatchObject({ accepted: 1 });
});

it('every unacknowledged frame rejects with the close reason code', async () => {
  FakeSocket.instances = [];
  const feed = new FeedClient({
    url: 'ws://h:1',
    token: 't',
    WebSocket: FakeSocket,
    ack: true,
    reconnect: false,
  });
  const sock = await nextSocket(1);
  sock.open();
  const a = feed.publish({ s: 'CC', p: 1 });
  await Promise.resolve();
  const b = feed.publish({ s: 'CC', p: 2 });
  await Promise.resolve();
  sock.receive({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
  sock.drop(CloseCode.PolicyViolation, 'slow_consumer: the feed does not read its acks');
  expect(await a).toMatchObject({ accepted: 1 });
  await expect(b).rejects.toMatchObject({
    code: ErrorCode.SlowConsumer,
    closeCode: CloseCode.PolicyViolation,
  });
  await feed.close();
});
