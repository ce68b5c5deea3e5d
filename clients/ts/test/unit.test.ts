/**
 * Client logic against a scripted fake WebSocket: token placement, socket
 * backpressure, sequence bookkeeping, backoff bounds, the emitter.
 */
import { describe, expect, it } from 'vitest';
import { Emitter } from '../src/emitter.js';
import { FeedClient, State, StreamClient, backoffDelay } from '../src/index.js';
import { BrowserLikeSocket, FakeSocket, nextSocket } from './fake-socket.js';
import { collect } from './helpers.js';

describe('token placement', () => {
  it('uses the Authorization header when the constructor takes options', async () => {
    FakeSocket.instances = [];
    const feed = new FeedClient({ url: 'ws://h:1', token: 't0k', WebSocket: FakeSocket });
    const sock = await nextSocket(1);
    expect(sock.url).toBe('ws://h:1/feed');
    expect(sock.options).toEqual({ headers: { Authorization: 'Bearer t0k' } });
    await feed.close();
  });

  it('uses ?token= with a browser-style constructor', async () => {
    FakeSocket.instances = [];
    const feed = new FeedClient({
      url: 'ws://h:1',
      token: 't0k',
      ack: true,
      WebSocket: BrowserLikeSocket,
    });
    const sock = await nextSocket(1);
    expect(sock.url).toBe('ws://h:1/feed?ack=1&token=t0k');
    expect(sock.options).toBeUndefined();
    await feed.close();
  });
});

describe('FeedClient backpressure', () => {
  it('holds frames while bufferedAmount is above the high-water mark, then drains', async () => {
    FakeSocket.instances = [];
    const feed = new FeedClient({
      url: 'ws://h:1',
      token: 't',
      WebSocket: FakeSocket,
      highWaterMark: 100,
    });
    const drains = collect(feed, 'drain');
    const sock = await nextSocket(1);
    sock.open();
    expect(feed.state).toBe(State.Open);
    feed.publish({ s: 'A', p: 1 });
    await Promise.resolve();
    expect(sock.sent).toHaveLength(1);

    sock.bufferedAmount = 1000;
    feed.publish({ s: 'A', p: 2 });
    await Promise.resolve();
    expect(sock.sent).toHaveLength(1);
    expect(feed.backpressured).toBe(true);
    let drained = false;
    const waiting = feed.drained().then(() => (drained = true));
    feed.publish({ s: 'A', p: 3 });
    await new Promise((r) => setTimeout(r, 20));
    expect(sock.sent).toHaveLength(1);
    expect(drained).toBe(false);
    expect(drains).toHaveLength(0);

    sock.bufferedAmount = 0;
    await waiting;
    expect(feed.backpressured).toBe(false);
    expect(drains).toHaveLength(1);
    expect(sock.decodedSent()).toEqual([
      [{ s: 'A', p: 1 }],
      [{ s: 'A', p: 2 }],
      [{ s: 'A', p: 3 }],
    ]);
    await feed.close();
  });
});

describe('StreamClient sequence tracking', () => {
  it('stitches snapshot and live updates, reports gaps and resets', async () => {
    FakeSocket.instances = [];
    const stream = new StreamClient({
      url: 'ws://h:1',
      WebSocket: FakeSocket,
      symbols: ['A'],
      reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
    });
    const updates = collect(stream, 'update');
    const gaps = collect(stream, 'gap');
    const resets = collect(stream, 'reset');
    const sock = await nextSocket(1);
    sock.open();
    expect(sock.decodedSent()).toEqual([{ op: 'subscribe', symbols: ['A'] }]);
    sock.receive({ op: 'subscribed', symbols: ['A'] });
    sock.receive({ op: 'snapshot', ticks: [{ s: 'A', p: 1, n: 5, r: 1 }] });
    // 4 and 5 are covered by the snapshot; 6 follows; 8 skips 7.
    sock.receive([
      { s: 'A', p: 1, n: 4, r: 1 },
      { s: 'A', p: 1, n: 5, r: 1 },
      { s: 'A', p: 1, n: 6, r: 1 },
    ]);
    sock.receive({ s: 'A', p: 1, n: 8, r: 1 });
    sock.receive({ s: 'B', p: 1, n: 1, r: 1 }); // not subscribed: ignored
    expect(updates.map((u) => u.n)).toEqual([6, 8]);
    expect(gaps).toEqual([{ symbol: 'A', expected: 7, got: 8 }]);

    // The connection drops; the client reconnects and resubscribes.
    sock.drop();
    expect(stream.state).toBe(State.Reconnecting);
    const sock2 = await nextSocket(2);
    sock2.open();
    // It resumes after the last n it saw.
    expect(sock2.decodedSent()).toEqual([{ op: 'subscribe', symbols: ['A'], since: { A: 8 } }]);
    // A restarted server: n is back at 2.
    sock2.receive({ op: 'snapshot', ticks: [{ s: 'A', p: 1, n: 2, r: 1 }] });
    expect(resets).toEqual([{ reason: 'sequence', symbol: 'A', previous: 8, got: 2 }]);
    sock2.receive({ s: 'A', p: 1, n: 3, r: 1 });
    expect(updates.map((u) => u.n)).toEqual([6, 8, 3]);
    expect(gaps).toHaveLength(1);
    await stream.close();
    expect(stream.state).toBe(State.Closed);
    // close() stops reconnecting.
    await new Promise((r) => setTimeout(r, 20));
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('speaks JSON text frames in json format', async () => {
    FakeSocket.instances = [];
    const stream = new StreamClient({
      url: 'ws://h:1/stream',
      WebSocket: FakeSocket,
      format: 'json',
    });
    const updates = collect(stream, 'update');
    const sock = await nextSocket(1);
    expect(sock.url).toBe('ws://h:1/stream?format=json');
    sock.open();
    stream.subscribe(['X']);
    expect(sock.sent).toEqual(['{"op":"subscribe","symbols":["X"]}']);
    sock.receive({ s: 'X', p: 2, n: 1, r: 10 }, true);
    expect(updates).toEqual([{ s: 'X', p: 2, n: 1, r: 10 }]);
    const pong = stream.ping();
    expect(JSON.parse(sock.sent[1] as string)).toEqual({ op: 'ping', id: 1 });
    sock.receive({ op: 'pong', id: 1, time: 5 }, true);
    expect(await pong).toBeGreaterThanOrEqual(0);
    await stream.close();
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, stays within [ceiling/2, ceiling] and is bounded', () => {
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(1000, 10 * 2 ** (attempt - 1));
      expect(backoffDelay(attempt, 10, 1000, () => 0)).toBe(Math.round(ceiling / 2));
      expect(backoffDelay(attempt, 10, 1000, () => 1)).toBe(ceiling);
    }
  });
});

describe('Emitter', () => {
  class Test extends Emitter<{ a: number; b: void }> {
    fire(n: number): void {
      this.emit('a', n);
      this.emit('b');
    }
  }

  it('supports on, once, off and listenerCount', () => {
    const t = new Test();
    const seen: string[] = [];
    const off = t.on('a', (n) => seen.push(`on ${n}`));
    t.once('a', (n) => seen.push(`once ${n}`));
    t.on('b', () => seen.push('b'));
    t.fire(1);
    t.fire(2);
    off();
    t.fire(3);
    expect(seen).toEqual(['on 1', 'once 1', 'b', 'on 2', 'b', 'b']);
    expect(t.listenerCount('a')).toBe(0);
    expect(t.listenerCount('b')).toBe(1);
  });
});
