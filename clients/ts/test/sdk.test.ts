/**
 * The SDK against a real in-process server on an ephemeral port.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { FEED_TOKEN, type TestServer, startServer } from '../../../test/helpers/server.js';
import { waitFor } from '../../../test/helpers/clients.js';
import { ErrorCode } from '../../../src/protocol/codes.js';
import type { Tick, Update } from '../../../src/protocol/types.js';
import {
  ClientErrorCode,
  FeedClient,
  State,
  StreamClient,
  TickwireClientError,
  type FrameAck,
} from '../src/index.js';
import { atLeast, collect, controlledWebSocket } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function server(options: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startServer(options);
  cleanup.push(() => s.stop());
  return s;
}

function feedClient<Ack extends boolean = false>(
  url: string,
  extra: { ack?: Ack; WebSocket?: FeedClient['constructor'] } = {},
): FeedClient<Ack> {
  const feed = new FeedClient<Ack>({
    url,
    token: FEED_TOKEN,
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...(extra.ack === undefined ? {} : { ack: extra.ack }),
  });
  cleanup.push(() => feed.close());
  return feed;
}

function streamClient(
  url: string,
  opts: Partial<ConstructorParameters<typeof StreamClient>[0]> = {},
): StreamClient {
  const stream = new StreamClient({
    url,
    WebSocket,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...opts,
  });
  cleanup.push(() => stream.close());
  return stream;
}

/** A new server on `port`, retrying while the old listen socket is still being released. */
async function startOnPort(port: number): Promise<TestServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServer({ port });
    } catch (err) {
      if (attempt >= 100) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function baseUrl(s: TestServer): string {
  return `ws://127.0.0.1:${s.port}`;
}

describe('publish / subscribe round trip', () => {
  for (const format of ['msgpack', 'json'] as const) {
    it(`delivers ticks with n and r (${format})`, async () => {
      const s = await server();
      const ws = controlledWebSocket();
      const stream = streamClient(baseUrl(s), {
        WebSocket: ws.WebSocket,
        format,
        symbols: ['RT.A'],
      });
      const snapshots = collect(stream, 'snapshot');
      const updates = collect(stream, 'update');
      const subscribed = collect(stream, 'subscribed');
      await atLeast(snapshots, 1, 'snapshots');
      expect(subscribed).toHaveLength(1);
      expect(subscribed[0]).toMatchObject({ op: 'subscribed', symbols: ['RT.A'] });
      expect(snapshots[0]).toEqual([]);

      const feed = feedClient(baseUrl(s));
      feed.publish({ s: 'RT.A', p: 189.5, q: 3, note: 'hi', flag: true });
      feed.publish({ s: 'RT.B', p: 1 }); // not subscribed
      feed.publish([
        { s: 'RT.A', p: 190 },
        { s: 'RT.A', p: 190.5, t: 1_700_000_000_000_000 },
      ]);
      await atLeast(updates, 3, 'updates');
      expect(updates.map((u) => [u.s, u.p, u.n])).toEqual([
        ['RT.A', 189.5, 1],
        ['RT.A', 190, 2],
        ['RT.A', 190.5, 3],
      ]);
      expect(updates[0]).toMatchObject({ q: 3, note: 'hi', flag: true });
      expect(updates[2]!.t).toBe(1_700_000_000_000_000);
      for (const u of updates) {
        expect(Number.isInteger(u.r)).toBe(true);
        expect(u.r).toBeGreaterThan(1_600_000_000_000_000);
      }
      // Every message reached the client in the requested encoding.
      expect(ws.sockets[0]!.url).toContain(format === 'json' ? 'format=json' : '/stream');
      expect(new Set(ws.frameKinds)).toEqual(new Set([format === 'msgpack']));
    });
  }

  it('ping() resolves to a round-trip time in ms', async () => {
    const s = await server();
    const stream = streamClient(baseUrl(s));
    await waitFor(() => stream.state === State.Open, 'open');
    const ms = await stream.ping();
    expect(typeof ms).toBe('number');
    expect(ms).toBeGreaterThanOrEqual(0);
  });

  it('snapshot entries set the baseline; live updates continue from them', async () => {
    const s = await server();
    const feed = feedClient(baseUrl(s), { ack: true });
    await feed.publish([
      { s: 'SN', p: 1 },
      { s: 'SN', p: 2 },
    ]);
    const stream = streamClient(baseUrl(s), { symbols: ['SN'] });
    const snapshots = collect(stream, 'snapshot');
    const updates = collect(stream, 'update');
    const gaps = collect(stream, 'gap');
    await atLeast(snapshots, 1, 'snapshots');
    expect(snapshots[0]!.map((u) => u.n)).toEqual([2]);
    expect(stream.lastSeq('SN')).toBe(2);
    await feed.publish({ s: 'SN', p: 3 });
    await atLeast(updates, 1, 'updates');
    expect(updates.map((u) => u.n)).toEqual([3]);
    expect(gaps).toEqual([]);
  });

  it('reports the server error for a bad subscribe and rejects invalid symbols locally', async () => {
    const s = await server({ maxSubscriptions: 2 });
    const stream = streamClient(baseUrl(s), { symbols: ['A1', 'A2'] });
    const errors = collect(stream, 'error');
    await atLeast(collect(stream, 'subscribed'), 1, 'subscribed');
    stream.subscribe(['A3']);
    await atLeast(errors, 1, 'errors');
    expect(errors[0]).toBeInstanceOf(TickwireClientError);
    expect(errors[0]!.code).toBe(ErrorCode.TooManySubscriptions);
    expect(() => stream.subscribe(['bad symbol'])).toThrow(TickwireClientError);
  });

  it('forgets the symbols of a refused subscribe, so they can be asked for again', async () => {
    const s = await server({ maxSubscriptions: 2 });
    const stream = streamClient(baseUrl(s), { symbols: ['A1', 'A2'] });
    const errors = collect(stream, 'error');
    const subscribed = collect(stream, 'subscribed');
    await atLeast(subscribed, 1, 'subscribed');
    // A ping in between: replies are matched to requests in order.
    const rtt = stream.ping();
    stream.subscribe(['A3', 'A4']);
    await rtt;
    await atLeast(errors, 1, 'errors');
    expect(errors[0]!.code).toBe(ErrorCode.TooManySubscriptions);
    expect(stream.symbols).toEqual(['A1', 'A2']);
    stream.unsubscribe(['A1']);
    stream.subscribe(['A3']);
    await atLeast(subscribed, 2, 'second subscribed');
    expect(subscribed[1]!.symbols).toEqual(['A3']);
    expect(stream.symbols).toEqual(['A2', 'A3']);
    expect(errors).toHaveLength(1);
  });

  it('forgets a subscribe refused by the control budget', async () => {
    const s = await server({ controlRate: 1, controlBurst: 1 });
    const stream = streamClient(baseUrl(s), { symbols: ['R1'] });
    const errors = collect(stream, 'error');
    await atLeast(collect(stream, 'subscribed'), 1, 'subscribed');
    stream.subscribe(['R2']);
    await atLeast(errors, 1, 'errors');
    expect(errors[0]!.code).toBe(ErrorCode.RateLimited);
    expect(stream.symbols).toEqual(['R1']);
  });
});

describe('FeedClient batching and acks', () => {
  it('sends everything published in one turn as one frame', async () => {
    const s = await server();
    const stream = streamClient(baseUrl(s), { symbols: ['*'] });
    const updates = collect(stream, 'update');
    await atLeast(collect(stream, 'snapshot'), 1, 'snapshot');
    const feed = feedClient(baseUrl(s));
    await waitFor(() => feed.state === State.Open, 'feed open');
    const before = s.server.pipeline.counters.framesReceived;
    for (let i = 0; i < 50; i++) feed.publish({ s: `B${i % 5}`, p: i });
    await atLeast(updates, 50, 'updates');
    expect(s.server.pipeline.counters.framesReceived - before).toBe(1);
    expect(feed.sent).toEqual({ frames: 1, ticks: 50 });
    expect(updates.map((u) => u.p)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('splits a turn with more than 4096 ticks into several frames', async () => {
    const s = await server();
    const feed = feedClient(baseUrl(s), { ack: true });
    await waitFor(() => feed.state === State.Open, 'feed open');
    const before = s.server.pipeline.counters.framesReceived;
    const ticks: Tick[] = Array.from({ length: 5000 }, (_, i) => ({ s: 'BIG', p: i }));
    const ack = await feed.publish(ticks);
    expect(ack).toEqual({ accepted: 5000, rejected: 0, indices: [] });
    expect(s.server.pipeline.counters.framesReceived - before).toBe(2);
  });

  it('ack mode: one promise per frame with accepted/rejected counts', async () => {
    const s = await server();
    const feed = feedClient(baseUrl(s), { ack: true });
    const errors = collect(feed, 'error');
    const p1 = feed.publish({ s: 'ACK', p: 1 });
    const p2 = feed.publish({ s: 'not a symbol!', p: 2 });
    const p3 = feed.publish([
      { s: 'ACK', p: 3 },
      { s: 'ACK', p: Number.NaN },
    ]);
    // Same turn, same frame, same answer.
    const [a1, a2, a3] = await Promise.all([p1, p2, p3]);
    const expected: FrameAck = { accepted: 2, rejected: 2, indices: [1, 3] };
    expect(a1).toEqual(expected);
    expect(a2).toEqual(expected);
    expect(a3).toEqual(expected);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe(ErrorCode.BadTick);
    expect(errors[0]!.indices).toEqual([1, 3]);

    // Next turn: a new frame.
    expect(await feed.publish({ s: 'ACK', p: 4 })).toEqual({
      accepted: 1,
      rejected: 0,
      indices: [],
    });
    expect(s.server.pipeline.counters.framesReceived).toBe(2);
  });

  it('ack mode: a bad_frame reply rejects the promise and is emitted as an error', async () => {
    const s = await server();
    const feed = feedClient(baseUrl(s), { ack: true });
    const errors = collect(feed, 'error');
    // Nesting deeper than the server allows makes the whole frame bad.
    const deep = { s: 'DEEP', p: 1, x: [[[[[[[[1]]]]]]]] } as unknown as Tick;
    const bad = feed.publish(deep);
    await expect(bad).rejects.toMatchObject({ code: ErrorCode.BadFrame });
    expect(errors.map((e) => e.code)).toEqual([ErrorCode.BadFrame]);
    // The connection stays usable.
    expect(await feed.publish({ s: 'DEEP', p: 2 })).toMatchObject({ accepted: 1 });
  });

  it('a wrong token is reported as unauthorized and not retried', async () => {
    const s = await server();
    const feed = new FeedClient({ url: baseUrl(s), token: 'wrong', WebSocket });
    cleanup.push(() => feed.close());
    const errors = collect(feed, 'error');
    const states = collect(feed, 'state');
    await atLeast(errors, 1, 'errors');
    expect(errors[0]!.code).toBe(ErrorCode.Unauthorized);
    expect(feed.state).toBe(State.Closed);
    expect(states).toEqual([State.Closed]);
    expect(() => feed.publish({ s: 'X', p: 1 })).toThrow(TickwireClientError);
  });

  it('the token can travel in the query string', async () => {
    const s = await server();
    const feed = new FeedClient({
      url: baseUrl(s),
      token: FEED_TOKEN,
      WebSocket,
      tokenIn: 'query',
      ack: true,
    });
    cleanup.push(() => feed.close());
    expect(await feed.publish({ s: 'Q', p: 1 })).toMatchObject({ accepted: 1 });
  });

  it('close() stops the client and rejects publishes that were never sent', async () => {
    const s = await server();
    const feed = feedClient(baseUrl(s), { ack: true });
    // Still connecting: the tick waits in the queue and never leaves.
    const pending = feed.publish({ s: 'CL', p: 1 });
    await feed.close();
    expect(feed.state).toBe(State.Closed);
    await expect(pending).rejects.toMatchObject({ code: ClientErrorCode.Closed });
    expect(feed.sent).toEqual({ frames: 0, ticks: 0 });
    await expect(feed.publish({ s: 'CL', p: 2 })).rejects.toMatchObject({
      code: ClientErrorCode.Closed,
    });
  });
});

describe('reconnect', () => {
  // The clients drop their connections first (a network outage, simulated by
  // the injected WebSocket class), then the server is replaced by a new one on
  // the same port. Stopping the server while clients are connected would leave
  // its side of those connections in TIME_WAIT, and this uWS build then cannot
  // listen on the port again for a minute.
  it('both clients come back when a new server starts on the same port', async () => {
    const first = await startServer();
    const port = first.port;
    let current: TestServer = first;
    cleanup.push(() => current.stop());
    const url = `ws://127.0.0.1:${port}`;
    const net = controlledWebSocket();
    const stream = streamClient(url, { WebSocket: net.WebSocket, symbols: ['RC'] });
    const feed = new FeedClient({
      url,
      token: FEED_TOKEN,
      WebSocket: net.WebSocket,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    });
    cleanup.push(() => feed.close());
    const updates = collect(stream, 'update');
    const snapshots = collect(stream, 'snapshot');
    const subscribed = collect(stream, 'subscribed');
    const resets = collect(stream, 'reset');
    const gaps = collect(stream, 'gap');
    const streamStates = collect(stream, 'state');
    const feedStates = collect(feed, 'state');
    await atLeast(snapshots, 1, 'snapshot');
    feed.publish([
      { s: 'RC', p: 1 },
      { s: 'RC', p: 2 },
      { s: 'RC', p: 3 },
    ]);
    await atLeast(updates, 3, 'updates');

    net.offline = true;
    for (const ws of net.sockets) ws.terminate();
    await waitFor(
      () => stream.state === State.Reconnecting && feed.state === State.Reconnecting,
      'both reconnecting',
    );
    await first.stop();
    // Published during the outage: queued, sent after the reconnect.
    feed.publish({ s: 'RC', p: 4 });
    current = await startOnPort(port);
    expect(feed.backpressured).toBe(true);
    net.offline = false;
    await waitFor(
      () => stream.state === State.Open && feed.state === State.Open,
      'both open again',
    );
    // The stream subscribed again on its own.
    await atLeast(subscribed, 2, 'subscribed replies');
    // It resumed with since: the new server cannot know RC#3, so no recovery.
    expect(subscribed[1]).toMatchObject({ op: 'subscribed', symbols: ['RC'], recovered: false });
    // The tick from the outage arrives either live or in the resubscribe snapshot.
    const seen = (): Update[] => [...updates, ...snapshots.flat()];
    await waitFor(() => seen().some((u) => u.p === 4), 'the tick published during the outage');
    expect(seen().find((u) => u.p === 4)!.n).toBe(1);
    // The new server numbers from 1 again: a reset, not a gap.
    expect(resets.map((r) => [r.symbol, r.previous])).toEqual([['RC', 3]]);
    feed.publish({ s: 'RC', p: 5 });
    await waitFor(() => updates.some((u) => u.p === 5), 'live update after reconnect');
    expect(updates.find((u) => u.p === 5)!.n).toBe(2);
    expect(gaps).toEqual([]);
    expect(streamStates[0]).toBe(State.Open);
    expect(new Set(streamStates.slice(1, -1))).toEqual(new Set([State.Reconnecting]));
    expect(streamStates.at(-1)).toBe(State.Open);
    expect(feedStates.at(-1)).toBe(State.Open);
    expect(feed.sent).toEqual({ frames: 3, ticks: 5 });
  });

  it('a server shutdown (1001) sends both clients into Reconnecting', async () => {
    const s = await startServer();
    const stream = streamClient(baseUrl(s), { symbols: ['GA'] });
    const feed = feedClient(baseUrl(s));
    const errors = collect(stream, 'error');
    await waitFor(() => stream.state === State.Open && feed.state === State.Open, 'both open');
    await s.stop();
    await waitFor(
      () => stream.state === State.Reconnecting && feed.state === State.Reconnecting,
      'both reconnecting',
    );
    // going_away is not an error code of the protocol: no error event.
    expect(errors).toEqual([]);
  });

  it('gives up after maxRetries and ends Closed with connect_failed', async () => {
    const s = await startServer();
    const port = s.port;
    await s.stop();
    const net = controlledWebSocket();
    const stream = new StreamClient({
      url: `ws://127.0.0.1:${port}`,
      WebSocket: net.WebSocket,
      reconnect: { initialDelayMs: 5, maxDelayMs: 10, maxRetries: 2 },
    });
    cleanup.push(() => stream.close());
    const errors = collect(stream, 'error');
    const states = collect(stream, 'state');
    await atLeast(errors, 1, 'errors');
    expect(errors[0]!.code).toBe(ClientErrorCode.ConnectFailed);
    expect(states).toEqual([State.Reconnecting, State.Closed]);
    // The first attempt and two retries.
    expect(net.sockets).toHaveLength(3);
  });
});

describe('sequence gaps', () => {
  // A gap is forced for real: the stream's socket is dropped and the network
  // kept "down" (the injected WebSocket class refuses to connect) while the
  // feed publishes, so the stream misses updates that the server numbered.
  it('reports updates missed while disconnected as a gap (recovery off)', async () => {
    const s = await server();
    const net = controlledWebSocket();
    const stream = streamClient(baseUrl(s), {
      WebSocket: net.WebSocket,
      symbols: ['GAP'],
      recover: false,
    });
    const updates = collect(stream, 'update');
    const snapshots = collect(stream, 'snapshot');
    const gaps = collect(stream, 'gap');
    const resets = collect(stream, 'reset');
    await atLeast(snapshots, 1, 'snapshot');
    const feed = feedClient(baseUrl(s), { ack: true });
    await feed.publish([
      { s: 'GAP', p: 1 },
      { s: 'GAP', p: 2 },
    ]);
    await atLeast(updates, 2, 'updates');

    net.offline = true;
    net.sockets[0]!.terminate();
    await waitFor(() => stream.state === State.Reconnecting, 'reconnecting');
    await feed.publish([
      { s: 'GAP', p: 3 },
      { s: 'GAP', p: 4 },
      { s: 'GAP', p: 5 },
    ]);
    net.offline = false;
    await atLeast(snapshots, 2, 'snapshots');
    expect(snapshots[1]!.map((u) => u.n)).toEqual([5]);
    expect(gaps).toEqual([{ symbol: 'GAP', expected: 3, got: 5 }]);
    await feed.publish({ s: 'GAP', p: 6 });
    await atLeast(updates, 3, 'updates');
    expect(updates.map((u) => u.n)).toEqual([1, 2, 6]);
    expect(gaps).toHaveLength(1);
    expect(resets).toEqual([]);
  });

  it('resumes with since after a reconnect: the missed updates are replayed, no gap', async () => {
    const s = await server({ history: 10 });
    const net = controlledWebSocket();
    const stream = streamClient(baseUrl(s), { WebSocket: net.WebSocket, symbols: ['RS'] });
    const updates = collect(stream, 'update');
    const snapshots = collect(stream, 'snapshot');
    const gaps = collect(stream, 'gap');
    const resumed = collect(stream, 'resumed');
    await atLeast(snapshots, 1, 'snapshot');
    const feed = feedClient(baseUrl(s), { ack: true });
    await feed.publish([
      { s: 'RS', p: 1 },
      { s: 'RS', p: 2 },
    ]);
    await atLeast(updates, 2, 'updates');

    net.offline = true;
    net.sockets[0]!.terminate();
    await waitFor(() => stream.state === State.Reconnecting, 'reconnecting');
    await feed.publish([
      { s: 'RS', p: 3 },
      { s: 'RS', p: 4 },
    ]);
    net.offline = false;
    await atLeast(resumed, 1, 'resumed');
    expect(resumed[0]).toEqual({ recovered: true, symbols: ['RS'] });
    await atLeast(updates, 4, 'replayed updates');
    await feed.publish({ s: 'RS', p: 5 });
    await atLeast(updates, 5, 'live update');
    expect(updates.map((u) => u.n)).toEqual([1, 2, 3, 4, 5]);
    expect(updates.map((u) => u.p)).toEqual([1, 2, 3, 4, 5]);
    expect(snapshots).toHaveLength(1);
    expect(gaps).toEqual([]);
  });

  it('resumes without recovery when the gap left the history: snapshot and a gap', async () => {
    const s = await server({ history: 2 });
    const net = controlledWebSocket();
    const stream = streamClient(baseUrl(s), { WebSocket: net.WebSocket, symbols: ['RT'] });
    const snapshots = collect(stream, 'snapshot');
    const gaps = collect(stream, 'gap');
    const resumed = collect(stream, 'resumed');
    await atLeast(snapshots, 1, 'snapshot');
    const feed = feedClient(baseUrl(s), { ack: true });
    await feed.publish({ s: 'RT', p: 1 });
    await waitFor(() => stream.lastSeq('RT') === 1, 'first update');
    net.offline = true;
    net.sockets[0]!.terminate();
    await waitFor(() => stream.state === State.Reconnecting, 'reconnecting');
    await feed.publish([2, 3, 4, 5].map((p) => ({ s: 'RT', p })));
    net.offline = false;
    await atLeast(resumed, 1, 'resumed');
    expect(resumed[0]).toEqual({ recovered: false, symbols: ['RT'] });
    await atLeast(snapshots, 2, 'snapshot after the resume');
    expect(gaps).toEqual([{ symbol: 'RT', expected: 2, got: 5 }]);
  });

  it('unsubscribe then resubscribe is not a gap', async () => {
    const s = await server();
    const stream = streamClient(baseUrl(s), { symbols: ['UN'] });
    const updates = collect(stream, 'update');
    const snapshots = collect(stream, 'snapshot');
    const unsubscribed = collect(stream, 'unsubscribed');
    const gaps = collect(stream, 'gap');
    await atLeast(snapshots, 1, 'snapshot');
    const feed = feedClient(baseUrl(s), { ack: true });
    await feed.publish({ s: 'UN', p: 1 });
    await atLeast(updates, 1, 'updates');
    stream.unsubscribe(['UN']);
    await atLeast(unsubscribed, 1, 'unsubscribed');
    await feed.publish([
      { s: 'UN', p: 2 },
      { s: 'UN', p: 3 },
    ]);
    stream.subscribe(['UN']);
    await atLeast(snapshots, 2, 'snapshots');
    expect(snapshots[1]!.map((u) => u.n)).toEqual([3]);
    await feed.publish({ s: 'UN', p: 4 });
    await atLeast(updates, 2, 'updates');
    expect(updates.map((u) => u.n)).toEqual([1, 4]);
    expect(gaps).toEqual([]);
  });
});
