/**
 * A restarted server (no persistence) numbers from 1 again under a new
 * epoch. A client that resumes there is answered `recovered: false` and
 * raises `reset`, even where the new numbering is already past the last n
 * it saw (which would otherwise look like a gap, or be "recovered" with
 * updates of the new numbering).
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/clients.js';
import { FEED_TOKEN, type TestServer, startServer } from '../../../../test/helpers/server.js';
import { FeedClient, State, StreamClient } from '../../src/index.js';
import { atLeast, cleanups, collect, redirectingWebSocket } from '../helpers.js';

const onCleanup = cleanups();

async function publish(s: TestServer, prices: number[]): Promise<void> {
  const feed = new FeedClient({
    url: `ws://127.0.0.1:${s.port}`,
    token: FEED_TOKEN,
    WebSocket,
    ack: true,
  });
  await feed.publish(prices.map((p) => ({ s: 'EP', p })));
  await feed.close();
}

it('resumes on a restarted server: recovered false, reset, then the new numbering', async () => {
  const first = await startServer({ history: 100 });
  onCleanup(() => first.stop());
  const target = { port: first.port, offline: false };
  const net = redirectingWebSocket(target);
  const stream = new StreamClient({
    url: 'ws://127.0.0.1:1',
    WebSocket: net.WebSocket,
    symbols: ['EP'],
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  onCleanup(() => stream.close());
  const subscribed = collect(stream, 'subscribed');
  const resumed = collect(stream, 'resumed');
  const resets = collect(stream, 'reset');
  const gaps = collect(stream, 'gap');
  const updates = collect(stream, 'update');
  const snapshots = collect(stream, 'snapshot');
  await atLeast(snapshots, 1, 'snapshot');
  await publish(first, [1, 2, 3]);
  await waitFor(() => stream.lastSeq('EP') === 3, 'n=3');
  const firstEpoch = stream.epoch;
  expect(typeof firstEpoch).toBe('string');

  target.offline = true;
  net.sockets[0]!.terminate();
  await waitFor(() => stream.state === State.Reconnecting, 'reconnecting');
  // The "restarted" server: same symbol, numbered from 1 again, already at 5.
  const second = await startServer({ history: 100 });
  onCleanup(() => second.stop());
  await publish(second, [11, 12, 13, 14, 15]);
  target.port = second.port;
  target.offline = false;
  await atLeast(resumed, 1, 'resumed');
  expect(resumed[0]!.recovered).toBe(false);
  expect(subscribed[1]!.epoch).not.toBe(firstEpoch);
  expect(stream.epoch).toBe(subscribed[1]!.epoch);
  await atLeast(snapshots, 2, 'snapshot of the new numbering');
  expect(snapshots[1]!.map((u) => [u.n, u.p])).toEqual([[5, 15]]);
  expect(resets).toEqual([
    {
      reason: 'epoch',
      symbol: 'EP',
      previous: 3,
      epoch: subscribed[1]!.epoch,
      previousEpoch: firstEpoch,
    },
  ]);
  await publish(second, [16]);
  await waitFor(() => stream.lastSeq('EP') === 6, 'n=6');
  expect(updates.map((u) => u.p)).toEqual([1, 2, 3, 16]);
  expect(gaps).toEqual([]);
});
