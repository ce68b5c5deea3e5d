/**
 * Recovery after a reconnect also works when the `since` for every tracked
 * symbol does not fit in one control frame (16 KiB on the server by
 * default): the resume is split into several subscribes, each within it.
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/clients.js';
import { FEED_TOKEN, startServer } from '../../../../test/helpers/server.js';
import { FeedClient, State, StreamClient } from '../../src/index.js';
import { atLeast, cleanups, collect, controlledWebSocket } from '../helpers.js';

const onCleanup = cleanups();

// 500 symbols of 24 characters: one subscribe fits in 16 KiB, the resume
// (symbols plus since) does not.
const NAMES = Array.from(
  { length: 500 },
  (_, i) => `RECOVER.MANY.SYMBOL.${String(i).padStart(4, '0')}`,
);

it('replays what 500 symbols missed, in several requests, with no gap', async () => {
  const s = await startServer({ history: 10 });
  onCleanup(() => s.stop());
  const url = `ws://127.0.0.1:${s.port}`;
  const net = controlledWebSocket();
  const stream = new StreamClient({
    url,
    WebSocket: net.WebSocket,
    symbols: NAMES,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  onCleanup(() => stream.close());
  const feed = new FeedClient({ url, token: FEED_TOKEN, WebSocket, ack: true });
  onCleanup(() => feed.close());
  const updates = collect(stream, 'update');
  const snapshots = collect(stream, 'snapshot');
  const gaps = collect(stream, 'gap');
  const errors = collect(stream, 'error');
  const resumed = collect(stream, 'resumed');
  const skipped = collect(stream, 'recoverySkipped');
  await atLeast(snapshots, 1, 'snapshot');
  await feed.publish(NAMES.map((name) => ({ s: name, p: 1 })));
  await atLeast(updates, NAMES.length, 'first round');

  net.offline = true;
  net.sockets[0]!.terminate();
  await waitFor(() => stream.state === State.Reconnecting, 'reconnecting');
  await feed.publish(NAMES.map((name) => ({ s: name, p: 2 })));
  net.offline = false;
  await atLeast(resumed, 1, 'resumed');
  expect(resumed[0]!.recovered).toBe(true);
  expect([...resumed[0]!.symbols].sort()).toEqual(NAMES);
  await atLeast(updates, 2 * NAMES.length, 'replayed round');
  expect(updates.slice(NAMES.length).every((u) => u.n === 2 && u.p === 2)).toBe(true);
  expect(snapshots).toHaveLength(1);
  expect(gaps).toEqual([]);
  expect(errors).toEqual([]);
  expect(skipped).toEqual([]);
  expect(resumed).toHaveLength(1);
});
