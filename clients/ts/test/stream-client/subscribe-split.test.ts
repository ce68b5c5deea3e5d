/**
 * A subscribe of more symbols than fit in one control frame (16 KiB on the
 * server by default) is sent as several requests, each within the limit.
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/clients.js';
import { FEED_TOKEN, startServer } from '../../../../test/helpers/server.js';
import { FeedClient, State, StreamClient } from '../../src/index.js';
import { atLeast, cleanups, collect } from '../helpers.js';

const onCleanup = cleanups();

const NAMES = Array.from(
  { length: 1000 },
  (_, i) => `SPLIT.SUBSCRIBE.SYMBOL.${String(i).padStart(5, '0')}`,
);

it('subscribes 1000 long symbols (30 KB of names) without a 1009 close', async () => {
  const s = await startServer();
  onCleanup(() => s.stop());
  const url = `ws://127.0.0.1:${s.port}`;
  const stream = new StreamClient({ url, WebSocket, reconnect: false });
  onCleanup(() => stream.close());
  const subscribed = collect(stream, 'subscribed');
  const errors = collect(stream, 'error');
  const updates = collect(stream, 'update');
  await waitFor(() => stream.state === State.Open, 'open');
  stream.subscribe(NAMES);
  await waitFor(
    () => subscribed.reduce((sum, m) => sum + m.symbols.length, 0) === NAMES.length,
    'every symbol subscribed',
  );
  expect(subscribed.length).toBeGreaterThan(1);
  expect(subscribed.flatMap((m) => m.symbols)).toEqual(NAMES);
  const feed = new FeedClient({ url, token: FEED_TOKEN, WebSocket, ack: true });
  onCleanup(() => feed.close());
  await feed.publish([
    { s: NAMES[0]!, p: 1 },
    { s: NAMES.at(-1)!, p: 2 },
  ]);
  await atLeast(updates, 2, 'updates');
  expect(errors).toEqual([]);
  expect(stream.state).toBe(State.Open);
});
