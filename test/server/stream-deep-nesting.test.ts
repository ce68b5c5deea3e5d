/**
 * Control messages nested deeper than MAX_DEPTH (8) are refused with
 * bad_request before anything decodes or re-encodes them, in both formats
 * and on both kinds of connection; the connection stays open and everyone
 * else keeps being served.
 *
 * The first two cases are the attack shapes of issue 12: a ~3 KB text ping
 * whose id nests 1,500 levels, on a MessagePack connection (the pong's
 * re-encoding overflowed the stack and ended the process), and a subscribe
 * whose symbols nest 8,000 levels (JSON.stringify in the control parser's
 * error message did the same).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorCode } from '../../src/protocol/codes.js';
import { MAX_DEPTH } from '../../src/protocol/tick-scanner.js';
import type { TestClient } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;
let feed: TestClient;
let bystander: TestClient;
let price = 0;

beforeAll(async () => {
  ts = await startServer();
  feed = await ts.feed();
  bystander = await ts.stream('symbols=DEEP.A');
  await bystander.nextOp('snapshot');
});

afterAll(async () => {
  await ts.stop();
});

/** `levels` nested JSON arrays: [[[…]]]. */
function jsonNest(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

/** `levels` nested MessagePack fixarrays of one element around nil. */
function msgpackNest(levels: number): Uint8Array {
  const out = new Uint8Array(levels + 1).fill(0x91);
  out[levels] = 0xc0;
  return out;
}

/** A MessagePack map {op: OP, KEY: VALUE} with VALUE given as raw bytes. */
function msgpackControl(op: string, key: string, value: Uint8Array): Uint8Array {
  const str = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s)];
  return Uint8Array.from([0x82, ...str('op'), ...str(op), ...str(key), ...value]);
}

/** The bystander still gets a fresh update. */
async function expectBystanderServed(): Promise<void> {
  const p = ++price;
  feed.sendPack({ s: 'DEEP.A', p });
  const u = await bystander.update();
  expect(u.p).toBe(p);
}

describe.each([
  ['MessagePack', ''],
  ['JSON', 'format=json'],
])('on a %s connection', (_name, query) => {
  test('a text ping whose id nests 1,500 levels: bad_request, connection open', async () => {
    const attacker = await ts.stream(query);
    attacker.sendText(`{"op":"ping","id":${jsonNest(1500)}}`);
    expect((await attacker.nextOp('error')).code).toBe(ErrorCode.BadRequest);
    await expectBystanderServed();
    attacker.sendText({ op: 'ping', id: 7 });
    expect((await attacker.nextOp('pong')).id).toBe(7);
    await attacker.close();
  });

  test('a text subscribe whose symbols nest 8,000 levels: bad_request, connection open', async () => {
    const attacker = await ts.stream(query);
    attacker.sendText(`{"op":"subscribe","symbols":${jsonNest(8000)}}`);
    expect((await attacker.nextOp('error')).code).toBe(ErrorCode.BadRequest);
    await expectBystanderServed();
    expect(attacker.isOpen).toBe(true);
    await attacker.close();
  });

  test('the same shapes as MessagePack: bad_request', async () => {
    const attacker = await ts.stream(query);
    attacker.sendBytes(msgpackControl('ping', 'id', msgpackNest(1500)));
    expect((await attacker.nextOp('error')).code).toBe(ErrorCode.BadRequest);
    attacker.sendBytes(msgpackControl('subscribe', 'symbols', msgpackNest(8000)));
    expect((await attacker.nextOp('error')).code).toBe(ErrorCode.BadRequest);
    await expectBystanderServed();
    await attacker.close();
  });

  test(`nesting of exactly ${MAX_DEPTH} levels is accepted, ${MAX_DEPTH + 1} is not`, async () => {
    const client = await ts.stream(query);
    // The message itself is level 1, so the id may nest MAX_DEPTH - 1 levels.
    client.sendText(`{"op":"ping","id":${jsonNest(MAX_DEPTH - 1)}}`);
    expect((await client.nextOp('pong')).id).toEqual(JSON.parse(jsonNest(MAX_DEPTH - 1)));
    client.sendText(`{"op":"ping","id":${jsonNest(MAX_DEPTH)}}`);
    expect((await client.nextOp('error')).code).toBe(ErrorCode.BadRequest);
    client.sendBytes(msgpackControl('ping', 'id', msgpackNest(MAX_DEPTH - 1)));
    expect((await client.nextOp('pong')).id).toBeDefined();
    client.sendBytes(msgpackControl('ping', 'id', msgpackNest(MAX_DEPTH)));
    expect((await client.nextOp('error')).code).toBe(ErrorCode.BadRequest);
    await client.close();
  });
});
