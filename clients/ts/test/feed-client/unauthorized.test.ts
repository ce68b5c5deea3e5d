/**
 * A refused token (HTTP 401 at upgrade) settles everything the client holds
 * with `unauthorized`, the server's code, not with a generic `closed`.
 */
import WebSocket from 'ws';
import { expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/protocol/codes.js';
import { startServer } from '../../../../test/helpers/server.js';
import { FeedClient, State, StreamClient } from '../../src/index.js';
import { atLeast, cleanups, collect } from '../helpers.js';

const onCleanup = cleanups();

it('a wrong feed token rejects pending publishes and drained() with unauthorized', async () => {
  const s = await startServer();
  onCleanup(() => s.stop());
  const feed = new FeedClient({
    url: `ws://127.0.0.1:${s.port}`,
    token: 'wrong',
    WebSocket,
    ack: true,
  });
  onCleanup(() => feed.close());
  const errors = collect(feed, 'error');
  // Published before the connection is refused: waits in the queue.
  const pending = feed.publish({ s: 'UA', p: 1 });
  const drained = feed.drained();
  await expect(pending).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
  await expect(drained).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
  expect(feed.state).toBe(State.Closed);
  expect(errors.map((e) => e.code)).toEqual([ErrorCode.Unauthorized]);
});

it('a wrong stream token: one unauthorized error and a connectFailed without retry', async () => {
  const s = await startServer({ streamToken: 'right' });
  onCleanup(() => s.stop());
  const stream = new StreamClient({
    url: `ws://127.0.0.1:${s.port}`,
    token: 'wrong',
    WebSocket,
    symbols: ['UA'],
  });
  onCleanup(() => stream.close());
  const errors = collect(stream, 'error');
  const failed = collect(stream, 'connectFailed');
  await atLeast(errors, 1, 'errors');
  expect(errors.map((e) => e.code)).toEqual([ErrorCode.Unauthorized]);
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ attempt: 1, retryInMs: undefined });
  expect(failed[0]!.error.code).toBe(ErrorCode.Unauthorized);
  expect(stream.state).toBe(State.Closed);
});
