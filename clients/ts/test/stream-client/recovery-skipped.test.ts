/**
 * A `"*"` subscription's resume must name every tracked symbol in one
 * request (symbols it leaves out count as none seen). When that request
 * would not fit in one control frame, the client resubscribes without
 * `since` and says so with a `recoverySkipped` event.
 */
import { expect, it } from 'vitest';
import { StreamClient } from '../../src/index.js';
import { FakeSocket, nextSocket } from '../fake-socket.js';
import { collect } from '../helpers.js';

it('"*" with too many tracked symbols for one frame: recoverySkipped, plain resubscribe', async () => {
  FakeSocket.instances = [];
  const stream = new StreamClient({
    url: 'ws://h:1',
    WebSocket: FakeSocket,
    symbols: ['*'],
    reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
  });
  const skipped = collect(stream, 'recoverySkipped');
  const resumed = collect(stream, 'resumed');
  const sock = await nextSocket(1);
  sock.open();
  sock.receive({ op: 'subscribed', symbols: ['*'] });
  const names = Array.from(
    { length: 600 },
    (_, i) => `SKIPPED.WILDCARD.SYMBOL.${String(i).padStart(6, '0')}`,
  );
  sock.receive({ op: 'snapshot', ticks: names.map((s) => ({ s, p: 1, n: 7, r: 1 })) });
  sock.drop();
  const sock2 = await nextSocket(2);
  sock2.open();
  expect(sock2.decodedSent()).toEqual([{ op: 'subscribe', symbols: ['*'] }]);
  expect(skipped).toEqual([{ reason: 'too_many_symbols', symbols: 600 }]);
  expect(resumed).toEqual([]);
  await stream.close();
});

it('"*" with few tracked symbols resumes in one request', async () => {
  FakeSocket.instances = [];
  const stream = new StreamClient({
    url: 'ws://h:1',
    WebSocket: FakeSocket,
    symbols: ['*'],
    reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
  });
  const skipped = collect(stream, 'recoverySkipped');
  const sock = await nextSocket(1);
  sock.open();
  sock.receive({ op: 'subscribed', symbols: ['*'] });
  sock.receive({ op: 'snapshot', ticks: [{ s: 'A', p: 1, n: 3, r: 1 }] });
  sock.drop();
  const sock2 = await nextSocket(2);
  sock2.open();
  expect(sock2.decodedSent()).toEqual([{ op: 'subscribe', symbols: ['*'], since: { A: 3 } }]);
  expect(skipped).toEqual([]);
  await stream.close();
});
