/**
 * A frame that waited in the offline queue longer than `maxQueueAgeMs` is
 * dropped unsent (a stale price is never published as a fresh one), counted,
 * reported, and its publish rejects with `expired`.
 */
import { expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/clients.js';
import { FEED_TOKEN, startServer } from '../../../../test/helpers/server.js';
import { ClientErrorCode, FeedClient, State } from '../../src/index.js';
import { atLeast, cleanups, collect, controlledWebSocket } from '../helpers.js';

const onCleanup = cleanups();

it('expires queued frames while disconnected and never sends them', async () => {
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
    maxQueueAgeMs: 50,
  });
  onCleanup(() => feed.close());
  const dropped = collect(feed, 'dropped');
  const stale = feed.publish([
    { s: 'QA', p: 1 },
    { s: 'QA', p: 2 },
  ]);
  // Expired while the network is still down, without waiting for a reconnect.
  await expect(stale).rejects.toMatchObject({ code: ClientErrorCode.Expired });
  await atLeast(dropped, 1, 'dropped events');
  expect(dropped).toEqual([{ reason: ClientErrorCode.Expired, frames: 1, ticks: 2 }]);
  expect(feed.dropped).toEqual({ frames: 1, ticks: 2 });
  expect(feed.backpressured).toBe(false);

  net.offline = false;
  await waitFor(() => feed.state === State.Open, 'open');
  expect(await feed.publish({ s: 'QA', p: 3 })).toMatchObject({ accepted: 1 });
  expect(feed.sent).toEqual({ frames: 1, ticks: 1 });
  expect(s.server.pipeline.counters.framesReceived).toBe(1);
});
