/**
 * A feed error names its frame (`frame`): with the NATS bus a frame's ack
 * waits for storage, so a later frame's bad_tick or bad_frame can arrive
 * before an earlier frame's ack. The error must go to the frame it names,
 * never to the oldest frame waiting (review finding: frame 1, stored, was
 * rejected with frame 2's bad_frame).
 */
import { expect, it } from 'vitest';
import { FeedClient, type FrameAck } from '../../src/index.js';
import { FakeSocket, nextSocket } from '../fake-socket.js';

async function settled<T>(p: Promise<T>): Promise<{ value?: T; code?: string }> {
  try {
    return { value: await p };
  } catch (err) {
    return { code: (err as { code: string }).code };
  }
}

it('an error for frame 2 that arrives before ack 1 settles frame 2 only', async () => {
  FakeSocket.instances = [];
  const feed = new FeedClient({ url: 'ws://h:1', token: 't', WebSocket: FakeSocket, ack: true });
  const sock = await nextSocket(1);
  sock.open();
  const results: Promise<FrameAck>[] = [];
  for (let p = 1; p <= 3; p++) {
    results.push(feed.publish({ s: 'EF', p }));
    await Promise.resolve(); // one frame per turn
  }
  const outcomes = results.map(settled);
  sock.receive({ op: 'error', code: 'bad_frame', message: 'x', frame: 2 });
  sock.receive({ op: 'error', code: 'bad_tick', indices: [0], message: 'y', frame: 3 });
  sock.receive({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
  sock.receive({ op: 'ack', frame: 2, accepted: 0, rejected: 0 });
  sock.receive({ op: 'ack', frame: 3, accepted: 0, rejected: 1 });
  expect(await outcomes[0]).toEqual({ value: { accepted: 1, rejected: 0, indices: [] } });
  expect(await outcomes[1]).toEqual({ code: 'bad_frame' });
  expect(await outcomes[2]).toEqual({ value: { accepted: 0, rejected: 1, indices: [0] } });
  await feed.close();
});
