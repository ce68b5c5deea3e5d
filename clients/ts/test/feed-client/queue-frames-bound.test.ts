/**
 * The offline queue holds at most `maxQueuedFrames` frames: the oldest are
 * dropped unsent, counted, reported, and their publishes reject `queue_full`.
 */
import { expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/clients.js';
import { FEED_TOKEN, startServer } from '../../../../test/helpers/server.js';
import { ClientErrorCode, FeedClient, State } from '../../src/index.js';
import { cleanups, collect, controlledWebSocket } from '../helpers.js';

const onCleanup = cleanups();

it('drops the oldest frames past maxQueuedFrames and sends only the rest', async () => {
  const s = await startServer();
  onCleanup(() => s.stop());
  const net = controlledWebSocket();
  net.offline = true;
  const feed = new FeedClient({
    url: `ws://127.0.0.1:${s.port}`,
    token: FEED_TOKEN,
    WebSocket: net.WebSocket,
    ack: true,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    maxQueuedFrames: 3,
  });
  onCleanup(() => feed.close());
  const dropped = collect(feed, 'dropped');
  // Five turns, five frames (the second one of two ticks).
  const results: Promise<unknown>[] = [];
  for (let p = 1; p <= 5; p++) {
    results.push(
      feed.publish(
        p === 2
          ? [
              { s: 'QF', p },
              { s: 'QF', p: 2.5 },
            ]
          : { s: 'QF', p },
      ),
    );
    await Promise.resolve();
  }
  await expect(results[0]).rejects.toMatchObject({ code: ClientErrorCode.QueueFull });
  await expect(results[1]).rejects.toMatchObject({ code: ClientErrorCode.QueueFull });
  expect(feed.dropped).toEqual({ frames: 2, ticks: 3 });
  expect(dropped.reduce((sum, d) => sum + d.frames, 0)).toBe(2);
  expect(dropped.reduce((sum, d) => sum + d.ticks, 0)).toBe(3);
  expect(new Set(dropped.map((d) => d.reason))).toEqual(new Set([ClientErrorCode.QueueFull]));

  net.offline = false;
  await waitFor(() => feed.state === State.Open, 'open');
  await Promise.all(results.slice(2));
  expect(feed.sent).toEqual({ frames: 3, ticks: 3 });
  expect(s.server.pipeline.counters.framesReceived).toBe(3);
});
