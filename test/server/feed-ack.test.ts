/**
 * ?ack=1: after every frame the feed gets {op:"ack", frame:N, accepted, rejected}
 * with N counting frames from 1, also after errors (the ack follows the error).
 * Without ?ack=1 a fully valid frame gets no reply at all.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Msg, type Received, pack } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

test('every frame is acked in order, errors first, frames counted from 1', async () => {
  const feed = await ts.feed('ack=1');
  const tooBig = Array.from({ length: 4097 }, (_, i) => ({ s: 'FA.A', p: i }));
  feed.sendPack({ s: 'FA.A', p: 1 }); // 1: ok
  feed.sendPack([
    { s: 'FA.A', p: 2 },
    { s: 'FA.B', p: 3 },
  ]); // 2: ok, 2 ticks
  feed.sendPack([{ s: 'FA.A', p: 4 }, { s: 'FA.A' }, { s: 'FA.B', p: 5 }, 'x']); // 3: bad_tick
  feed.sendBytes(Buffer.from([0xc1])); // 4: bad_frame
  feed.sendText('{"s":"FA.A","p":1}'); // 5: text frame
  feed.sendPack(tooBig); // 6: payload_too_large
  feed.sendPack([]); // 7: empty batch
  feed.sendPack(7); // 8: scalar
  feed.sendPack({ s: 'FA.B', p: 6 }); // 9: ok

  const got: Received[] = [];
  for (let i = 0; i < 14; i++) got.push(await feed.next());
  expect(got.every((m) => m.binary)).toBe(true);
  const data = got.map((m) => m.data as unknown) as Msg[];
  const errorAt = (i: number, code: string): void => {
    expect(data[i]).toMatchObject({ op: 'error', code });
  };
  expect(data[0]).toEqual({ op: 'ack', frame: 1, accepted: 1, rejected: 0 });
  expect(data[1]).toEqual({ op: 'ack', frame: 2, accepted: 2, rejected: 0 });
  errorAt(2, 'bad_tick');
  expect(data[2].indices).toEqual([1, 3]);
  expect(data[3]).toEqual({ op: 'ack', frame: 3, accepted: 2, rejected: 2 });
  errorAt(4, 'bad_frame');
  expect(data[5]).toEqual({ op: 'ack', frame: 4, accepted: 0, rejected: 0 });
  errorAt(6, 'bad_frame');
  expect(data[7]).toEqual({ op: 'ack', frame: 5, accepted: 0, rejected: 0 });
  errorAt(8, 'payload_too_large');
  expect(data[9]).toEqual({ op: 'ack', frame: 6, accepted: 0, rejected: 4097 });
  expect(data[10]).toEqual({ op: 'ack', frame: 7, accepted: 0, rejected: 0 });
  errorAt(11, 'bad_frame');
  expect(data[12]).toEqual({ op: 'ack', frame: 8, accepted: 0, rejected: 0 });
  expect(data[13]).toEqual({ op: 'ack', frame: 9, accepted: 1, rejected: 0 });
  await feed.expectNone(150);
});

test('ack frame numbers are per connection', async () => {
  const a = await ts.feed('ack=1');
  const b = await ts.feed('ack=1');
  a.sendPack({ s: 'FA.C', p: 1 });
  a.sendPack({ s: 'FA.C', p: 2 });
  b.sendPack({ s: 'FA.C', p: 3 });
  expect((await a.nextOp('ack')).frame).toBe(1);
  expect((await a.nextOp('ack')).frame).toBe(2);
  expect((await b.nextOp('ack')).frame).toBe(1);
});

test('many frames: one ack each, N = 1, 2, 3, …', async () => {
  const feed = await ts.feed('ack=1');
  for (let i = 0; i < 200; i++) feed.sendBytes(pack({ s: 'FA.MANY', p: i }));
  for (let i = 1; i <= 200; i++) {
    expect(await feed.nextData()).toEqual({ op: 'ack', frame: i, accepted: 1, rejected: 0 });
  }
});

test('without ?ack=1 valid frames get no reply, errors still do', async () => {
  const feed = await ts.feed();
  feed.sendPack({ s: 'FA.QUIET', p: 1 });
  feed.sendPack([{ s: 'FA.QUIET', p: 2 }]);
  feed.sendPack({ s: 'FA.QUIET' });
  expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'bad_tick' });
  await feed.expectNone(150);
});
