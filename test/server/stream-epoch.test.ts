/**
 * Numbering identity (epoch): `subscribed` and `snapshot` name the epoch
 * every `n` belongs to, and a `since` is replayed only for the current
 * epoch. A restarted embedded server numbers from 1 again under a new epoch,
 * so a `since` of the old numbering is answered recovered:false with the
 * snapshot, never with a splice of the two numberings (issue 12, item 3).
 */
import { afterEach, expect, test } from 'vitest';
import { type TestServer, startServer } from '../helpers/server.js';

const running: TestServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function server(): Promise<TestServer> {
  const ts = await startServer({ history: 100 });
  running.push(ts);
  return ts;
}

async function publish(ts: TestServer, s: string, count: number): Promise<void> {
  const feed = await ts.feed('ack=1');
  feed.sendPack(Array.from({ length: count }, (_, i) => ({ s, p: i + 1 })));
  await feed.nextOp('ack');
  await feed.close();
}

test('subscribed and snapshot carry the epoch /stats reports, in both formats', async () => {
  const ts = await server();
  await publish(ts, 'EP.A', 2);
  const { epoch } = await ts.stats();
  expect(typeof epoch).toBe('string');
  const bin = await ts.stream();
  bin.sendPack({ op: 'subscribe', symbols: ['EP.A'] });
  expect(await bin.nextOp('subscribed')).toEqual({ op: 'subscribed', symbols: ['EP.A'], epoch });
  expect(await bin.nextOp('snapshot')).toMatchObject({ op: 'snapshot', epoch, ticks: [{ n: 2 }] });
  const text = await ts.stream('format=json');
  text.sendText({ op: 'subscribe', symbols: ['EP.A'] });
  expect(await text.nextOp('subscribed')).toEqual({ op: 'subscribed', symbols: ['EP.A'], epoch });
  expect(await text.nextOp('snapshot')).toMatchObject({ op: 'snapshot', epoch, ticks: [{ n: 2 }] });
});

test('a since that names no epoch is not replayed: recovered false and the snapshot', async () => {
  const ts = await server();
  await publish(ts, 'EP.B', 5);
  const sub = await ts.stream();
  sub.sendPack({ op: 'subscribe', symbols: ['EP.B'], since: { 'EP.B': 3 } });
  expect(await sub.nextOp('subscribed')).toMatchObject({ recovered: false });
  expect((await sub.nextOp('snapshot')).ticks).toMatchObject([{ s: 'EP.B', n: 5 }]);
});

test('a since of another epoch is not replayed; of this epoch it is', async () => {
  const ts = await server();
  await publish(ts, 'EP.C', 5);
  const other = await ts.stream();
  other.sendPack({ op: 'subscribe', symbols: ['EP.C'], since: { 'EP.C': 3 }, epoch: 'elsewhere' });
  expect(await other.nextOp('subscribed')).toMatchObject({ recovered: false });
  expect((await other.nextOp('snapshot')).ticks).toMatchObject([{ n: 5 }]);
  const same = await ts.stream();
  const epoch = ts.server.pipeline.epoch;
  same.sendPack({ op: 'subscribe', symbols: ['EP.C'], since: { 'EP.C': 3 }, epoch });
  expect(await same.nextOp('subscribed')).toMatchObject({ recovered: true, epoch });
  expect((await same.updates(2)).map((u) => u.n)).toEqual([4, 5]);
});

test('after a restart that numbers again from 1, the old numbering is not spliced', async () => {
  const first = await server();
  await publish(first, 'AAPL', 41);
  const before = await first.stream();
  before.sendPack({ op: 'subscribe', symbols: ['AAPL'] });
  const { epoch } = await before.nextOp('subscribed');
  await first.stop();
  running.splice(running.indexOf(first), 1);

  const second = await server();
  await publish(second, 'AAPL', 50);
  expect(second.server.pipeline.epoch).not.toBe(epoch);
  const sub = await second.stream();
  sub.sendPack({ op: 'subscribe', symbols: ['AAPL'], since: { AAPL: 41 }, epoch });
  expect(await sub.nextOp('subscribed')).toMatchObject({
    recovered: false,
    epoch: second.server.pipeline.epoch,
  });
  expect((await sub.nextOp('snapshot')).ticks).toMatchObject([{ s: 'AAPL', n: 50 }]);
});

test('an epoch that is not a short string is a bad_request', async () => {
  const ts = await server();
  const sub = await ts.stream();
  for (const epoch of [7, '', 'x'.repeat(65), ['a']]) {
    sub.sendPack({ op: 'subscribe', symbols: ['EP.D'], since: { 'EP.D': 1 }, epoch });
    expect(await sub.nextOp('error')).toMatchObject({ code: 'bad_request' });
  }
});
