/**
 * A client pointed at a port nobody listens on: every failed attempt is an
 * event, and `maxRetries` or `connectTimeoutMs` end the attempts, rejecting
 * what waits with `connect_failed`.
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { ClientErrorCode, FeedClient, State, StreamClient } from '../../src/index.js';
import { atLeast, cleanups, collect, deadPort } from '../helpers.js';

const onCleanup = cleanups();

it('reports each failed attempt, then gives up after maxRetries', async () => {
  const port = await deadPort();
  const feed = new FeedClient({
    url: `ws://127.0.0.1:${port}`,
    token: 't',
    WebSocket,
    ack: true,
    reconnect: { initialDelayMs: 5, maxDelayMs: 10, maxRetries: 3 },
  });
  onCleanup(() => feed.close());
  const failed = collect(feed, 'connectFailed');
  const errors = collect(feed, 'error');
  const pending = feed.publish({ s: 'DP', p: 1 });
  await expect(pending).rejects.toMatchObject({ code: ClientErrorCode.ConnectFailed });
  // The first attempt and three retries, each reported.
  expect(failed.map((f) => f.attempt)).toEqual([1, 2, 3, 4]);
  for (const f of failed) expect(f.error.code).toBe(ClientErrorCode.ConnectFailed);
  expect(failed.slice(0, 3).every((f) => typeof f.retryInMs === 'number')).toBe(true);
  expect(failed[3]!.retryInMs).toBeUndefined();
  expect(errors.map((e) => e.code)).toEqual([ClientErrorCode.ConnectFailed]);
  expect(feed.state).toBe(State.Closed);
});

it('connectTimeoutMs: stops retrying and rejects pending publishes with connect_failed', async () => {
  const port = await deadPort();
  const feed = new FeedClient({
    url: `ws://127.0.0.1:${port}`,
    token: 't',
    WebSocket,
    ack: true,
    // Retries forever on their own: only the timeout ends them.
    reconnect: { initialDelayMs: 5, maxDelayMs: 10 },
    connectTimeoutMs: 100,
  });
  onCleanup(() => feed.close());
  const failed = collect(feed, 'connectFailed');
  const errors = collect(feed, 'error');
  const pending = feed.publish({ s: 'DP', p: 1 });
  await expect(pending).rejects.toMatchObject({ code: ClientErrorCode.ConnectFailed });
  expect(feed.state).toBe(State.Closed);
  expect(failed.length).toBeGreaterThanOrEqual(1);
  expect(errors.map((e) => e.code)).toEqual([ClientErrorCode.ConnectFailed]);
});

it('StreamClient reports failed attempts too', async () => {
  const port = await deadPort();
  const stream = new StreamClient({
    url: `ws://127.0.0.1:${port}`,
    WebSocket,
    symbols: ['DP'],
    reconnect: { initialDelayMs: 5, maxDelayMs: 10 },
  });
  onCleanup(() => stream.close());
  const failed = collect(stream, 'connectFailed');
  await atLeast(failed, 3, 'failed attempts');
  expect(failed.slice(0, 3).map((f) => f.attempt)).toEqual([1, 2, 3]);
  expect(stream.state).toBe(State.Reconnecting);
});
