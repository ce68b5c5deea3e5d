/**
 * Numbering identity: the client remembers the `epoch` of `subscribed` and
 * `snapshot`, resumes with `since` together with it, and when the server's
 * epoch differs, raises `reset` for every tracked symbol and starts its
 * sequence tracking again from the new snapshot: numbers of the old
 * numbering are never compared with the new.
 */
import { expect, it } from 'vitest';
import { StreamClient } from '../../src/index.js';
import { FakeSocket, nextSocket } from '../fake-socket.js';
import { collect } from '../helpers.js';

function client(): StreamClient {
  return new StreamClient({
    url: 'ws://h:1',
    WebSocket: FakeSocket,
    symbols: ['A', 'B'],
    reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
  });
}

it('resumes with the remembered epoch and resets tracking when the epoch changed', async () => {
  FakeSocket.instances = [];
  const stream = client();
  const order: string[] = [];
  const resets = collect(stream, 'reset');
  const gaps = collect(stream, 'gap');
  const updates = collect(stream, 'update');
  stream.on('reset', (r) => order.push(`reset ${r.symbol}`));
  stream.on('snapshot', () => order.push('snapshot'));
  const sock = await nextSocket(1);
  sock.open();
  sock.receive({ op: 'subscribed', symbols: ['A', 'B'], epoch: 'e1' });
  sock.receive({
    op: 'snapshot',
    epoch: 'e1',
    ticks: [
      { s: 'A', p: 1, n: 5, r: 1 },
      { s: 'B', p: 1, n: 3, r: 1 },
    ],
  });
  sock.receive({ s: 'A', p: 1, n: 6, r: 1 });
  expect(stream.epoch).toBe('e1');
  order.length = 0;

  sock.drop();
  const sock2 = await nextSocket(2);
  sock2.open();
  expect(sock2.decodedSent()).toEqual([
    { op: 'subscribe', symbols: ['A', 'B'], since: { A: 6, B: 3 }, epoch: 'e1' },
  ]);
  // Another numbering: A is at 9 there (ahead, not a gap), B has nothing yet.
  sock2.receive({ op: 'subscribed', symbols: ['A', 'B'], recovered: false, epoch: 'e2' });
  sock2.receive({ op: 'snapshot', epoch: 'e2', ticks: [{ s: 'A', p: 2, n: 9, r: 1 }] });
  sock2.receive({ s: 'A', p: 2, n: 10, r: 1 });
  sock2.receive({ s: 'B', p: 2, n: 1, r: 1 });
  expect(stream.epoch).toBe('e2');
  expect(resets).toEqual([
    { reason: 'epoch', symbol: 'A', previous: 6, epoch: 'e2', previousEpoch: 'e1' },
    { reason: 'epoch', symbol: 'B', previous: 3, epoch: 'e2', previousEpoch: 'e1' },
  ]);
  // The resets come before the new snapshot.
  expect(order).toEqual(['reset A', 'reset B', 'snapshot']);
  expect(gaps).toEqual([]);
  expect(updates.map((u) => `${u.s}${u.n}`)).toEqual(['A6', 'A10', 'B1']);
  expect(stream.lastSeq('A')).toBe(10);
  expect(stream.lastSeq('B')).toBe(1);

  // The next resume names the new epoch.
  sock2.drop();
  const sock3 = await nextSocket(3);
  sock3.open();
  expect(sock3.decodedSent()).toEqual([
    { op: 'subscribe', symbols: ['A', 'B'], since: { A: 10, B: 1 }, epoch: 'e2' },
  ]);
  await stream.close();
});

it('the same epoch after a reconnect is not a reset', async () => {
  FakeSocket.instances = [];
  const stream = client();
  const resets = collect(stream, 'reset');
  const resumed = collect(stream, 'resumed');
  const sock = await nextSocket(1);
  sock.open();
  sock.receive({ op: 'subscribed', symbols: ['A', 'B'], epoch: 'e1' });
  sock.receive({ op: 'snapshot', epoch: 'e1', ticks: [{ s: 'A', p: 1, n: 5, r: 1 }] });
  sock.drop();
  const sock2 = await nextSocket(2);
  sock2.open();
  sock2.receive({ op: 'subscribed', symbols: ['A', 'B'], recovered: true, epoch: 'e1' });
  sock2.receive({ s: 'A', p: 1, n: 6, r: 1 });
  expect(resumed).toEqual([{ recovered: true, symbols: ['A', 'B'] }]);
  expect(resets).toEqual([]);
  expect(stream.lastSeq('A')).toBe(6);
  await stream.close();
});
