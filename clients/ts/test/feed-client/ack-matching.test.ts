/**
 * Ack mode matches each ack to its frame by the ack's `frame` number (the
 * server counts frames from 1 per connection), not by position: an ack for a
 * frame the client never sent, or an ack that never came, shifts nothing.
 */
import { expect, it } from 'vitest';
import { ClientErrorCode, FeedClient, type FrameAck } from '../../src/index.js';
import { FakeSocket, nextSocket } from '../fake-socket.js';

async function settled<T>(p: Promise<T>): Promise<{ value?: T; code?: string }> {
  try {
    return { value: await p };
  } catch (err) {
    return { code: (err as { code: string }).code };
  }
}

it('settles each publish with the ack carrying its frame number', async () => {
  FakeSocket.instances = [];
  const feed = new FeedClient({ url: 'ws://h:1', token: 't', WebSocket: FakeSocket, ack: true });
  const sock = await nextSocket(1);
  sock.open();
  const results: Promise<FrameAck>[] = [];
  for (let p = 1; p <= 4; p++) {
    results.push(feed.publish({ s: 'AM', p }));
    await Promise.resolve(); // one frame per turn
  }
  expect(sock.sent).toHaveLength(4);
  const outcomes = results.map(settled);

  // An ack for a frame this connection never sent changes nothing.
  sock.receive({ op: 'ack', frame: 99, accepted: 9, rejected: 9 });
  // Frame 1's ack went missing: frame 2's ack settles frame 2, and frame 1
  // can no longer be acknowledged (acks come in order).
  sock.receive({ op: 'ack', frame: 2, accepted: 2, rejected: 0 });
  // A bad_tick reply belongs to the next frame to be acknowledged (3).
  sock.receive({ op: 'error', code: 'bad_tick', indices: [0], message: 'x' });
  sock.receive({ op: 'ack', frame: 3, accepted: 0, rejected: 1 });
  sock.receive({ op: 'ack', frame: 4, accepted: 4, rejected: 0 });

  expect(await outcomes[0]).toEqual({ code: ClientErrorCode.AckMissing });
  expect(await outcomes[1]).toEqual({ value: { accepted: 2, rejected: 0, indices: [] } });
  expect(await outcomes[2]).toEqual({ value: { accepted: 0, rejected: 1, indices: [0] } });
  expect(await outcomes[3]).toEqual({ value: { accepted: 4, rejected: 0, indices: [] } });
  await feed.close();
});

it('numbers frames per connection: after a reconnect, frame 1 is the first frame sent on it', async () => {
  FakeSocket.instances = [];
  const feed = new FeedClient({
    url: 'ws://h:1',
    token: 't',
    WebSocket: FakeSocket,
    ack: true,
    reconnect: { initialDelayMs: 1, maxDelayMs: 2 },
  });
  const sock = await nextSocket(1);
  sock.open();
  const first = settled(feed.publish({ s: 'AM', p: 1 }));
  await Promise.resolve();
  sock.receive({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
  expect(await first).toEqual({ value: { accepted: 1, rejected: 0, indices: [] } });
  sock.drop();
  const second = settled(feed.publish({ s: 'AM', p: 2 }));
  const sock2 = await nextSocket(2);
  sock2.open();
  expect(sock2.sent).toHaveLength(1);
  sock2.receive({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
  expect(await second).toEqual({ value: { accepted: 1, rejected: 0, indices: [] } });
  await feed.close();
});
