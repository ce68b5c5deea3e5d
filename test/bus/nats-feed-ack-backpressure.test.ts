/**
 * NATS mode: a feed's acks go out through the ordered queue of
 * feed-acks.ts; a feed that does not read them is closed like one on the
 * embedded bus (1008 slow_consumer after acks 1..K in order), never left
 * open with acks missing. Its frames hold only invalid ticks, so nothing is
 * stored and every ack is sent as soon as its frame is read.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pack, waitFor } from '../helpers/clients.js';
import { NatsServer, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { unreadFeed } from '../helpers/unread-feed.js';
import { CloseCode, ErrorCode } from '../../src/protocol/codes.js';

describe.skipIf(!natsAvailable)('NATS bus: a feed that does not read its acks', () => {
  let nats: NatsServer;
  let node: TestServer;

  beforeAll(async () => {
    nats = await NatsServer.start();
    node = await startServer({ nats: nats.url, maxBackpressure: 64 * 1024 });
    await waitFor(() => node.server.ready, 'node ready', 10_000);
  }, 20_000);

  afterAll(async () => {
    await node.stop();
    await nats.stop();
  });

  test('acks 1..K in order, then 1008 slow_consumer', async () => {
    const { acks, last, end } = await unreadFeed(node.port, pack({ s: 'NFB.A' }), 200_000);
    expect(acks.findIndex((frame, i) => frame !== i + 1)).toBe(-1);
    expect(acks.length).toBeLessThan(last);
    expect(end?.closeFrame?.code).toBe(CloseCode.PolicyViolation);
    expect(end?.closeFrame?.reason.startsWith(ErrorCode.SlowConsumer)).toBe(true);
    expect(node.server.admission.refused.slowConsumerFeedCloses).toBe(1);
  }, 120_000);
});
