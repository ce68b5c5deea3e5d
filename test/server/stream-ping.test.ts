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

describe('ids that decoding would change come back byte for byte', () => {
  // ping map prefix: {op:"ping", id: …} as fixmap(2) "op" "ping" "id".
  const PREFIX = [0x82, 0xa2, 0x6f, 0x70, 0xa4, 0x70, 0x69, 0x6e, 0x67, 0xa2, 0x69, 0x64];
  const cases: [string, number[]][] = [
    ['uint64 2^53 + 1', [0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0x01]],
    ['uint64 max', [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['int64 -(2^53 + 1)', [0xd3, 0xff, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['a map with a "__proto__" key', [0x81, 0xa9, ...Buffer.from('__proto__'), 0x01]],
    ['a map with an integer key', [0x81, 0x01, 0x02]],
    ['bin bytes', [0xc4, 0x02, 0x01, 0x02]],
  ];

  test.each(cases)('MessagePack id: %s', async (_what, id) => {
    const sub = await ts.stream();
    sub.sendBytes(Uint8Array.from([...PREFIX, ...id]));
    const m = await sub.next();
    const idAt = m.raw.indexOf(Buffer.from([0xa2, 0x69, 0x64])) + 3;
    expect(idAt).toBeGreaterThan(3);
    expect([...m.raw.subarray(idAt, idAt + id.length)]).toEqual(id);
    // Then "time" and a uint64.
    expect([...m.raw.subarray(idAt + id.length, idAt + id.length + 6)]).toEqual([
      0xa4, 0x74, 0x69, 0x6d, 0x65, 0xcf,
    ]);
    expect(m.raw.length).toBe(idAt + id.length + 14);
    await sub.close();
  });

  test.each([
    ['an integer past 2^53', '12345678901234567890123'],
    ['a float written long-hand', '1.50'],
    ['an object with spaces and escapes', '{ "a\\"b" : [1, {"c": "}"}] }'],
  ])('JSON id: %s', async (_what, id) => {
    const sub = await ts.stream('format=json');
    sub.sendText(`{"op":"ping","id":${id}}`);
    const m = await sub.next();
    expect(m.binary).toBe(false);
    expect(m.raw.toString()).toMatch(/^\{"op":"pong","id":(.*),"time":\d+\}$/);
    expect(m.raw.toString()).toContain(`"id":${id},"time":`);
    await sub.close();
  });

  test('a repeated id key: the last one, as JSON.parse reads it', async () => {
    const sub = await ts.stream('format=json');
    sub.sendText('{"op":"ping","id":1,"id":"second"}');
    expect((await sub.next()).raw.toString()).toContain('"id":"second"');
    await sub.close();
  });
});
