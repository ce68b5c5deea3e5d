/**
 * Subscribes and unsubscribes on /stream have a per-connection budget (a
 * token bucket of --control-burst tokens, --control-rate per second; each
 * takes one token plus one per SYMBOLS_PER_TOKEN symbols it makes the
 * server touch; pings are free), and a subscribe is refused while the
 * connection's queue is above conflateAt. Refused messages get `rate_limited` and are
 * not applied; a connection refused for PERSIST_MS is closed with 1008
 * `rate_limited`. A dashboard's traffic stays well inside the budget.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Msg, type TestClient, isRecord, sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { tcpOf } from '../helpers/slow.js';
import { SYMBOLS_PER_TOKEN } from '../../src/server/control-budget.js';
import { DEFAULTS } from '../../src/config.js';

const CONTROL_BURST = DEFAULTS.controlBurst;

const CONFLATE_AT = 64 * 1024;
/** Known symbols with a ~300-byte last value each: a JSON "*" snapshot is about 600 KB. */
const SYMBOLS = 2000;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer({ conflateAt: CONFLATE_AT });
  const feed = await ts.feed('ack=1');
  const note = 'n'.repeat(250);
  for (let i = 0; i < SYMBOLS; i += 500) {
    feed.sendPack(Array.from({ length: 500 }, (_, k) => ({ s: `CB.${i + k}`, p: i + k, note })));
    await feed.nextOp('ack');
  }
  await feed.close();
});

afterAll(async () => {
  await ts.stop();
});

function ops(client: TestClient, op: string): Msg[] {
  return client.history.map((m) => m.data as unknown).filter((d) => isRecord(d) && d.op === op);
}

test('defaults a dashboard never notices', () => {
  expect(DEFAULTS.controlRate).toBeGreaterThanOrEqual(10);
  expect(DEFAULTS.controlBurst).toBeGreaterThanOrEqual(100);
  expect(SYMBOLS_PER_TOKEN).toBeGreaterThanOrEqual(1000);
});

test('a burst over the budget: the extra requests get rate_limited and are not applied; pings are free', async () => {
  const client = await ts.stream();
  const REQUESTS = CONTROL_BURST + 50;
  for (let i = 0; i < REQUESTS; i++) {
    client.sendPack({ op: 'unsubscribe', symbols: ['CB.X'] });
    client.sendPack({ op: 'ping', id: i });
  }
  // In the same burst: refused too, so nothing is subscribed.
  client.sendPack({ op: 'subscribe', symbols: ['CB.1'] });
  await waitFor(() => ops(client, 'pong').length === REQUESTS, 'every pong');
  await waitFor(
    () =>
      ops(client, 'error').length > 0 && client.history.length >= 2 * REQUESTS - CONTROL_BURST + 1,
    'an answer to the refused ones',
  );
  const refused = ops(client, 'error');
  // Unsubscribes past the budget and the subscribe are refused (the others answer `unsubscribed`).
  expect(refused.length).toBeGreaterThanOrEqual(REQUESTS - CONTROL_BURST);
  expect(refused.every((e) => e.code === 'rate_limited')).toBe(true);
  expect(client.history.at(-1)?.data).toMatchObject({ op: 'error', code: 'rate_limited' });
  expect(ops(client, 'subscribed')).toEqual([]);
  expect(client.isOpen).toBe(true);
  await client.close();
});

test('--control-rate 0 turns the budget off', async () => {
  const open = await startServer({ controlRate: 0 });
  try {
    const client = await open.stream();
    for (let i = 0; i < 500; i++) client.sendPack({ op: 'unsubscribe', symbols: ['CB.X'] });
    client.sendPack({ op: 'subscribe', symbols: ['CB.1'] });
    expect(await client.nextOp('subscribed')).toMatchObject({ symbols: ['CB.1'] });
    expect(ops(client, 'error')).toEqual([]);
    await client.close();
  } finally {
    await open.stop();
  }
});

test('subscribe is refused while the queue is above conflateAt', async () => {
  const client = await ts.stream('format=json');
  tcpOf(client).pause(); // reads nothing from now on
  const REQUESTS = 60;
  for (let i = 0; i < REQUESTS; i++) client.sendText({ op: 'subscribe', symbols: ['*'] });
  // Time for the server to answer every request before the client reads
  // anything (60 snapshots: far more than the kernel's socket buffers hold).
  await sleep(500);
  tcpOf(client).resume();
  await waitFor(
    () => ops(client, 'subscribed').length + ops(client, 'error').length === REQUESTS,
    'an answer to every subscribe',
    10_000,
  );
  const snapshots = ops(client, 'snapshot');
  const refused = ops(client, 'error');
  console.info(`paused JSON client: ${snapshots.length} snapshots, ${refused.length} refused`);
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.every((e) => e.code === 'rate_limited')).toBe(true);
  expect(snapshots.length).toBe(REQUESTS - refused.length);
  expect(snapshots.length).toBeLessThan(REQUESTS);
  expect(snapshots[0].ticks).toHaveLength(SYMBOLS);
  // Not closed: it only had to read.
  expect(client.isOpen).toBe(true);
  await client.close();
});

test('a dashboard: "*" with thousands of symbols, named changes and pings, never refused', async () => {
  const client = await ts.stream();
  client.sendPack({ op: 'subscribe', symbols: ['*'] });
  expect((await client.nextOp('snapshot')).ticks).toHaveLength(SYMBOLS);
  for (let i = 0; i < 40; i++) {
    client.sendPack({ op: 'subscribe', symbols: [`CB.${i}`, `CB.${i + 1}`] });
    client.sendPack({ op: 'unsubscribe', symbols: [`CB.${i}`] });
    client.sendPack({ op: 'ping', id: i });
  }
  await waitFor(() => ops(client, 'pong').length === 40, 'the pongs');
  expect(ops(client, 'error')).toEqual([]);
  await client.close();
});

test('refused for 5 s on end: closed with 1008 rate_limited', async () => {
  const client = await ts.stream();
  const sending = setInterval(() => {
    for (let i = 0; i < 20 && client.isOpen; i++)
      client.sendPack({ op: 'unsubscribe', symbols: ['CB.X'] });
  }, 10);
  try {
    const close = await client.waitClose(15_000);
    expect(close.code).toBe(1008);
    expect(close.reason.startsWith('rate_limited')).toBe(true);
  } finally {
    clearInterval(sending);
  }
  // Others carry on.
  const other = await ts.stream();
  other.sendPack({ op: 'ping', id: 'x' });
  expect(await other.nextOp('pong')).toMatchObject({ id: 'x' });
}, 20_000);
