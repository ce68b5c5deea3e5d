/**
 * Invalid control messages on /stream are answered
 * {op:"error", code:"bad_request", message} and change nothing; the
 * connection stays open.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestClient, pack, waitFor } from '../helpers/clients.js';
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

const str = (s: string): Buffer => pack(s);
const cat = (...parts: (Buffer | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));

const textCases: [string, string][] = [
  ['malformed JSON', '{"op":"subscribe","symbols":['],
  ['empty text', ''],
  ['JSON array', '[{"op":"ping"}]'],
  ['JSON number', '42'],
  ['JSON string', '"ping"'],
  ['JSON null', 'null'],
  ['no op', '{"symbols":["AAPL"]}'],
  ['non-string op', '{"op":1}'],
  ['unknown op', '{"op":"dance"}'],
  ['op in the wrong case', '{"op":"Subscribe","symbols":["AAPL"]}'],
  ['missing symbols', '{"op":"subscribe"}'],
  ['symbols not an array', '{"op":"subscribe","symbols":"AAPL"}'],
  ['empty symbols', '{"op":"subscribe","symbols":[]}'],
  ['symbol with a space', '{"op":"subscribe","symbols":["AA PL"]}'],
  ['empty symbol', '{"op":"subscribe","symbols":[""]}'],
  ['33-character symbol', JSON.stringify({ op: 'subscribe', symbols: ['S'.repeat(33)] })],
  ['non-ASCII symbol', '{"op":"subscribe","symbols":["ÄPFEL"]}'],
  ['numeric symbol', '{"op":"subscribe","symbols":[1]}'],
  ['null symbol', '{"op":"subscribe","symbols":[null]}'],
  ['one bad symbol among good ones', '{"op":"subscribe","symbols":["SE.OK","bad!"]}'],
  ['bad unsubscribe', '{"op":"unsubscribe","symbols":["bad!"]}'],
  ['unsubscribe without symbols', '{"op":"unsubscribe"}'],
  ['bad throttle', '{"op":"subscribe","symbols":["SE.OK"],"throttle":-1}'],
  ['bad since', '{"op":"subscribe","symbols":["SE.OK"],"since":{"SE.OK":"x"}}'],
];

// Map keys/values as raw MessagePack pieces.
const opPing = cat(str('op'), str('ping'));
const binaryCases: [string, Buffer][] = [
  ['not MessagePack (0xc1)', Buffer.from([0xc1])],
  ['a MessagePack array', pack([{ op: 'ping' }])],
  ['a MessagePack string', pack('ping')],
  ['a MessagePack nil', pack(null)],
  ['unknown op', pack({ op: 'dance' })],
  ['bad symbols', pack({ op: 'subscribe', symbols: ['no spaces'] })],
  ['a truncated map', pack({ op: 'subscribe', symbols: ['SE.OK'] }).subarray(0, 10)],
  ['ext type as a value', cat([0x82], opPing, str('id'), [0xd4, 0x01, 0x00])],
  ['ext8 type as a value', cat([0x82], opPing, str('id'), [0xc7, 0x02, 0x05, 0x00, 0x00])],
  ['a top-level ext type', Buffer.from([0xd6, 0xff, 0, 0, 0, 1])],
  ['a msgpackr record (ext)', cat([0x81], str('op'), [0xd4, 0x72, 0x00])],
  ['hostile array16 nesting', Buffer.from(new Array(64).fill([0xdc, 0xff, 0xff]).flat())],
  ['array32 claiming 4 billion elements', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0])],
  ['map16 claiming 65535 pairs', Buffer.from([0xde, 0xff, 0xff, 0xa2, 0x6f, 0x70])],
  ['str32 length past the end', Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61])],
  ['nesting deeper than 8', cat([0x82], opPing, str('id'), new Array(20).fill(0x91), [0xc0])],
  ['trailing garbage', cat(pack({ op: 'ping', id: 1 }), [0xc1])],
];

describe.each([
  ['MessagePack connection', ''],
  ['JSON connection', 'format=json'],
])('%s', (_name, query) => {
  let sub: TestClient;

  beforeAll(async () => {
    // Subscribed to one symbol: errors must leave that subscription alone.
    sub = await ts.stream(`${query}${query === '' ? '' : '&'}symbols=SE.KEEP`);
    await sub.nextOp('snapshot');
  });

  async function expectBadRequest(): Promise<void> {
    const m = await sub.next();
    expect(m.binary).toBe(query === '');
    expect(m.data).toEqual({ op: 'error', code: 'bad_request', message: m.data.message });
    expect(typeof m.data.message).toBe('string');
    expect(sub.isOpen).toBe(true);
  }

  test.each(textCases)('text: %s → bad_request', async (_case, text) => {
    sub.sendText(text);
    await expectBadRequest();
  });

  test.each(binaryCases)('binary: %s → bad_request', async (_case, bytes) => {
    sub.sendBytes(bytes);
    await expectBadRequest();
  });

  test('after all that: still open, subscriptions unchanged, ping works', async () => {
    sub.sendPack({ op: 'ping', id: 'alive' });
    expect(await sub.nextData()).toMatchObject({ op: 'pong', id: 'alive' });
    feed.sendPack([
      { s: 'SE.OK', p: 1 },
      { s: 'SE.KEEP', p: 2 },
    ]);
    await feed.nextOp('ack');
    const u = await sub.update();
    expect(u).toMatchObject({ s: 'SE.KEEP', p: 2 });
    await sub.expectNone(100);
  });
});

test('a bad request from one subscriber does not affect others', async () => {
  const a = await ts.stream('symbols=SE.OTHER');
  const b = await ts.stream('symbols=SE.OTHER');
  await a.nextOp('snapshot');
  await b.nextOp('snapshot');
  for (const [, bytes] of binaryCases) a.sendBytes(bytes);
  feed.sendPack({ s: 'SE.OTHER', p: 1 });
  await feed.nextOp('ack');
  expect(await b.update()).toMatchObject({ s: 'SE.OTHER', n: 1 });
  await b.expectNone(100);
  const errorCount = (): number => a.history.filter((m) => m.data?.op === 'error').length;
  await waitFor(() => errorCount() === binaryCases.length, 'every bad request answered');
  expect(a.history.filter((m) => m.data?.s === 'SE.OTHER')).toHaveLength(1);
  expect(a.isOpen).toBe(true);
});
