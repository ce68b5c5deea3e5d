/**
 * ?format=json: every message to the client (replies, snapshot, updates,
 * errors, pongs) is a JSON text frame. Control messages may be sent as JSON
 * text or MessagePack binary on both kinds of connection; replies always use
 * the connection's format.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Msg, type Received, type TestClient, type Update } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;

beforeAll(async () => {
  ts = await startServer();
  feed = await ts.feed('ack=1');
});

afterAll(async () => {
  await ts.stop();
});

async function publish(ticks: Record<string, unknown>[]): Promise<void> {
  feed.sendPack(ticks);
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: ticks.length, rejected: 0 });
}

function expectText(m: Received): Msg {
  expect(m.binary).toBe(false);
  // Valid JSON of exactly what was decoded.
  expect(JSON.parse(m.raw.toString('utf8'))).toEqual(m.data);
  return m.data;
}

describe('format=json', () => {
  test('replies, snapshot and updates are all JSON text frames', async () => {
    await publish([{ s: 'SJ.A', p: 1.25, venue: 'X', ok: true, none: null }]);
    const sub = await ts.stream('symbols=SJ.A,SJ.B&format=json');
    expect(expectText(await sub.next())).toEqual({
      op: 'subscribed',
      symbols: ['SJ.A', 'SJ.B'],
      epoch: expect.any(String),
    });
    const snap = expectText(await sub.next());
    expect(snap.op).toBe('snapshot');
    expect(snap.ticks).toEqual([
      { s: 'SJ.A', p: 1.25, venue: 'X', ok: true, none: null, n: 1, r: snap.ticks[0].r },
    ]);
    expect(Number.isInteger(snap.ticks[0].r)).toBe(true);

    await publish([
      { s: 'SJ.A', p: 2, t: 1_700_000_000_000_000 },
      { s: 'SJ.B', p: 3 },
    ]);
    const u1 = expectText(await sub.next());
    const u2 = expectText(await sub.next());
    expect(u1).toEqual({ s: 'SJ.A', p: 2, t: 1_700_000_000_000_000, n: 2, r: u1.r });
    expect(u2).toEqual({ s: 'SJ.B', p: 3, n: 1, r: u2.r });
    expect(Number.isInteger(u1.r)).toBe(true);

    sub.sendText({ op: 'ping', id: 1 });
    expect(expectText(await sub.next())).toMatchObject({ op: 'pong', id: 1 });
    sub.sendText({ op: 'unsubscribe', symbols: ['SJ.B'] });
    expect(expectText(await sub.next())).toEqual({ op: 'unsubscribed', symbols: ['SJ.B'] });
    sub.sendText({ op: 'nope' });
    expect(expectText(await sub.next())).toMatchObject({ op: 'error', code: 'bad_request' });
    expect(sub.history.every((m) => !m.binary)).toBe(true);
  });

  test('an empty snapshot is JSON too', async () => {
    const sub = await ts.stream('format=json&symbols=SJ.EMPTY');
    await sub.next();
    expect(expectText(await sub.next())).toEqual({
      op: 'snapshot',
      epoch: expect.any(String),
      ticks: [],
    });
  });

  test('control messages sent as MessagePack binary are answered in JSON', async () => {
    const sub = await ts.stream('format=json');
    sub.sendPack({ op: 'subscribe', symbols: ['SJ.C'] });
    expect(expectText(await sub.next())).toEqual({
      op: 'subscribed',
      symbols: ['SJ.C'],
      epoch: expect.any(String),
    });
    expect(expectText(await sub.next())).toEqual({
      op: 'snapshot',
      epoch: expect.any(String),
      ticks: [],
    });
    sub.sendPack({ op: 'ping', id: 'bin' });
    expect(expectText(await sub.next())).toMatchObject({ op: 'pong', id: 'bin' });
    sub.sendPack({ op: 'unsubscribe', symbols: ['SJ.C'] });
    expect(expectText(await sub.next())).toEqual({ op: 'unsubscribed', symbols: ['SJ.C'] });
    sub.sendBytes(Buffer.from([0xc1]));
    expect(expectText(await sub.next())).toMatchObject({ op: 'error', code: 'bad_request' });
  });

  test('"*" in JSON: a multi-tick frame arrives as a JSON array of updates', async () => {
    const sub = await ts.stream('format=json&symbols=*');
    await sub.nextOp('snapshot');
    await publish([
      { s: 'SJ.D', p: 1 },
      { s: 'SJ.E', p: 2 },
    ]);
    const m = await sub.next();
    const arr = expectText(m);
    expect(Array.isArray(arr)).toBe(true);
    expect((arr as Update[]).map((u) => [u.s, u.n])).toEqual([
      ['SJ.D', 1],
      ['SJ.E', 1],
    ]);
    await publish([{ s: 'SJ.D', p: 3 }]);
    expect(expectText(await sub.next())).toMatchObject({ s: 'SJ.D', p: 3, n: 2 });
  });

  test('JSON and MessagePack subscribers get the same updates', async () => {
    const json = await ts.stream('format=json&symbols=SJ.SAME');
    const bin = await ts.stream('symbols=SJ.SAME');
    const jsonAll = await ts.stream('format=json&symbols=*');
    const binAll = await ts.stream('format=msgpack&symbols=*');
    await Promise.all([json, bin, jsonAll, binAll].map((c) => c.nextOp('snapshot')));
    const ticks = [
      { s: 'SJ.SAME', p: 0.1, q: 3, b: -1.5, a: 2e-7, t: 1_700_000_000_000_001, note: 'ü"\\' },
      { s: 'SJ.SAME', p: 123456789.125, flag: false, x: null },
    ];
    await publish(ticks);
    const fromJson = await json.updates(2);
    expect(fromJson).toEqual(await bin.updates(2));
    expect(fromJson).toEqual(await jsonAll.updates(2));
    expect(fromJson).toEqual(await binAll.updates(2));
    expect(json.history.every((m) => !m.binary)).toBe(true);
    expect(jsonAll.history.every((m) => !m.binary)).toBe(true);
    expect(bin.history.every((m) => m.binary)).toBe(true);
    expect(binAll.history.every((m) => m.binary)).toBe(true);
  });
});

describe('format=msgpack (default)', () => {
  test('control messages sent as JSON text are answered in MessagePack', async () => {
    const sub = await ts.stream();
    sub.sendText({ op: 'subscribe', symbols: ['SJ.F'] });
    const subscribed = await sub.next();
    expect(subscribed.binary).toBe(true);
    expect(subscribed.data).toEqual({
      op: 'subscribed',
      symbols: ['SJ.F'],
      epoch: expect.any(String),
    });
    const snap = await sub.next();
    expect(snap.binary).toBe(true);
    expect(snap.data).toEqual({ op: 'snapshot', epoch: expect.any(String), ticks: [] });
    sub.sendText({ op: 'ping', id: 'txt' });
    const pong = await sub.next();
    expect(pong.binary).toBe(true);
    expect(pong.data).toMatchObject({ op: 'pong', id: 'txt' });
    sub.sendText('{not json');
    const err = await sub.next();
    expect(err.binary).toBe(true);
    expect(err.data).toMatchObject({ op: 'error', code: 'bad_request' });
    await publish([{ s: 'SJ.F', p: 1 }]);
    const u = await sub.next();
    expect(u.binary).toBe(true);
    expect(u.data).toMatchObject({ s: 'SJ.F', n: 1 });
  });

  test('?format=msgpack is the same as no format', async () => {
    const sub = await ts.stream('format=msgpack&symbols=SJ.G');
    const m = await sub.next();
    expect(m.binary).toBe(true);
    expect(m.data).toEqual({ op: 'subscribed', symbols: ['SJ.G'], epoch: expect.any(String) });
  });
});
