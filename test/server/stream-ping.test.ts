/**
 * {op:"ping", id} → {op:"pong", id (echoed as sent), time (integer µs)}.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

function expectPlausibleUs(time: unknown, beforeMs: number): void {
  expect(Number.isInteger(time)).toBe(true);
  // Microseconds since the epoch (a clock check, not a speed check).
  expect(time as number).toBeGreaterThan((beforeMs - 60_000) * 1000);
  expect(time as number).toBeLessThan((Date.now() + 60_000) * 1000);
}

const ids: [string, unknown][] = [
  ['a string', 'req-1'],
  ['an integer', 42],
  ['zero', 0],
  ['a negative float', -1.5],
  ['an empty string', ''],
  ['true', true],
  ['null', null],
  ['an object', { a: 1, b: ['x'] }],
  ['an array', [1, 'two', null]],
];

describe.each([
  ['MessagePack', ''],
  ['JSON', 'format=json'],
])('%s connection', (_name, query) => {
  test.each(ids)('id %s is echoed as sent (request as MessagePack)', async (_what, id) => {
    const sub = await ts.stream(query);
    const before = Date.now();
    sub.sendPack({ op: 'ping', id });
    const m = await sub.next();
    expect(m.binary).toBe(query === '');
    expect(m.data).toEqual({ op: 'pong', id, time: m.data.time });
    expectPlausibleUs(m.data.time, before);
    await sub.close();
  });

  test.each(ids)('id %s is echoed as sent (request as JSON)', async (_what, id) => {
    const sub = await ts.stream(query);
    const before = Date.now();
    sub.sendText({ op: 'ping', id });
    const m = await sub.next();
    expect(m.binary).toBe(query === '');
    expect(m.data).toEqual({ op: 'pong', id, time: m.data.time });
    expectPlausibleUs(m.data.time, before);
    await sub.close();
  });

  test('a ping without id gets id null', async () => {
    const sub = await ts.stream(query);
    sub.sendText({ op: 'ping' });
    const pong = await sub.nextData();
    expect(pong).toEqual({ op: 'pong', id: null, time: pong.time });
  });

  test('pongs come back in order, one per ping, with a non-decreasing time', async () => {
    const sub = await ts.stream(query);
    for (let i = 0; i < 50; i++) sub.sendPack({ op: 'ping', id: i });
    let lastTime = 0;
    for (let i = 0; i < 50; i++) {
      const pong = await sub.nextData();
      expect(pong).toMatchObject({ op: 'pong', id: i });
      expect(pong.time).toBeGreaterThanOrEqual(lastTime);
      lastTime = pong.time;
    }
    await sub.expectNone(100);
  });
});

test('the MessagePack pong time is a 64-bit integer on the wire', async () => {
  const sub = await ts.stream();
  sub.sendPack({ op: 'ping', id: 1 });
  const m = await sub.next();
  // "time" is followed by a 64-bit integer (uint64 0xcf or int64 0xd3), never float64 (0xcb).
  const at = m.raw.indexOf(Buffer.from([0xa4, ...Buffer.from('time')]));
  expect(at).toBeGreaterThan(0);
  expect([0xcf, 0xd3]).toContain(m.raw[at + 5]);
  expect(Number(m.raw.readBigUInt64BE(at + 6))).toBe(m.data.time);
});
