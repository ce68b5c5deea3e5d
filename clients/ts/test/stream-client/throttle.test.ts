/**
 * The `throttle` option (and subscribe()'s own) reaches the server with the
 * subscribe and again with the resubscribe after a reconnect; skipped
 * updates of a throttled symbol are what was asked for, not gaps.
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/clients.js';
import { FEED_TOKEN, startServer } from '../../../../test/helpers/server.js';
import { FeedClient, State, StreamClient } from '../../src/index.js';
import { atLeast, cleanups, collect, controlledWebSocket } from '../helpers.js';

const onCleanup = cleanups();

it('conflates to the latest update, before and after a reconnect', async () => {
  const s = await startServer({ history: 10 });
  onCleanup(() => s.stop());
  const url = `ws://127.0.0.1:${s.port}`;
  const net = controlledWebSocket();
  const stream = new StreamClient({
    url,
    WebSocket: net.WebSocket,
    symbols: ['TH'],
    throttle: 50,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  onCleanup(() => stream.close());
  const feed = new FeedClient({ url, token: FEED_TOKEN, WebSocket, ack: true });
  onCleanup(() => feed.close());
  const updates = collect(stream, 'update');
  const gaps = collect(stream, 'gap');
  const resumed = collect(stream, 'resumed');
  await atLeast(collect(stream, 'snapshot'), 1, 'snapshot');

  // Five updates in one frame: the throttle timer finds only the last.
  await feed.publish([1, 2, 3, 4, 5].map((p) => ({ s: 'TH', p })));
  await waitFor(() => stream.lastSeq('TH') === 5, 'n=5');
  expect(updates.map((u) => u.n)).toEqual([5]);

  net.offline = true;
  net.sockets[0]!.terminate();
  await waitFor(() => stream.state === State.Reconnecting, 'reconnecting');
  net.offline = false;
  await atLeast(resumed, 1, 'resumed');
  expect(resumed[0]!.recovered).toBe(true);

  await feed.publish([6, 7, 8, 9, 10].map((p) => ({ s: 'TH', p })));
  await waitFor(() => stream.lastSeq('TH') === 10, 'n=10');
  expect(updates.map((u) => u.n)).toEqual([5, 10]);
  expect(gaps).toEqual([]);
});

it('subscribe(symbols, { throttle }) sets a throttle for those symbols only', async () => {
  const s = await startServer();
  onCleanup(() => s.stop());
  const url = `ws://127.0.0.1:${s.port}`;
  const stream = new StreamClient({ url, WebSocket, symbols: ['LIVE'] });
  onCleanup(() => stream.close());
  const feed = new FeedClient({ url, token: FEED_TOKEN, WebSocket, ack: true });
  onCleanup(() => feed.close());
  const updates = collect(stream, 'update');
  const subscribed = collect(stream, 'subscribed');
  await atLeast(subscribed, 1, 'subscribed');
  stream.subscribe(['SLOW'], { throttle: 50 });
  await atLeast(subscribed, 2, 'subscribed SLOW');
  await feed.publish(
    [1, 2, 3].flatMap((p) => [
      { s: 'LIVE', p },
      { s: 'SLOW', p },
    ]),
  );
  await waitFor(() => stream.lastSeq('SLOW') === 3, 'SLOW n=3');
  await waitFor(() => stream.lastSeq('LIVE') === 3, 'LIVE n=3');
  expect(updates.filter((u) => u.s === 'LIVE').map((u) => u.n)).toEqual([1, 2, 3]);
  expect(updates.filter((u) => u.s === 'SLOW').map((u) => u.n)).toEqual([3]);
});
