/**
 * A feed on /feed?ack=1 that writes frames without reading its acks: once
 * more than --max-backpressure bytes of replies wait for it, it is closed as
 * a slow consumer (1008, reason starting `slow_consumer`) after the replies
 * already queued, and nothing more is read from it. What it receives is
 * always a prefix: acks 1..K in order, then the close; never an ack skipped
 * and the connection kept open (uWS drops sends past its cap silently).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pack } from '../helpers/clients.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';
import { unreadFeed } from '../helpers/unread-feed.js';
import { CloseCode, ErrorCode } from '../../src/protocol/codes.js';

/** Small, so that the replies pass it quickly (kernel buffers hold a few MB more). */
const MAX_BACKPRESSURE = 64 * 1024;
/**
 * Frames with one invalid tick (no `p`): each gets a bad_tick error and an
 * ack, about 140 bytes, for 11 bytes written: 200,000 of them queue ~28 MB of
 * replies, far more than loopback socket buffers and the limit together.
 */
const FRAMES = 200_000;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ maxBackpressure: MAX_BACKPRESSURE });
});

afterAll(async () => {
  await ts.stop();
});

test('a feed that does not read its acks: acks 1..K in order, then 1008 slow_consumer', async () => {
  const closesBefore = ts.server.admission.refused.slowConsumerFeedCloses;
  const { acks, last, end } = await unreadFeed(ts.port, pack({ s: 'FAB.A' }), FRAMES);
  console.info(`feed that did not read: ${acks.length} acks of ${last} frames, then the close`);
  // A prefix: 1, 2, 3, … with nothing skipped.
  expect(acks.findIndex((frame, i) => frame !== i + 1)).toBe(-1);
  // 28 MB of replies cannot all wait: the feed was closed, with the code.
  expect(acks.length).toBeLessThan(last);
  expect(end?.closeFrame?.code).toBe(CloseCode.PolicyViolation);
  expect(end?.closeFrame?.reason.startsWith(ErrorCode.SlowConsumer)).toBe(true);
  // Counted in /stats and /metrics.
  expect(ts.server.admission.refused.slowConsumerFeedCloses).toBe(closesBefore + 1);
  const metrics = await httpGet(ts.httpUrl('/metrics'));
  expect(metrics.body).toMatch(/^tickwire_feeds_slow_consumer_closed_total [1-9]/m);
  const stats = await ts.stats();
  expect(stats.refused).toMatchObject({ slow_consumer_feed_closes: closesBefore + 1 });
}, 120_000);

test('a feed that reads its acks gets every one of them', async () => {
  const feed = await ts.feed('ack=1');
  for (let i = 0; i < 2000; i++) feed.sendPack({ s: 'FAB.B', p: i });
  for (let i = 1; i <= 2000; i++) {
    expect(await feed.nextOp('ack')).toMatchObject({ frame: i, accepted: 1 });
  }
  expect(feed.isOpen).toBe(true);
});
