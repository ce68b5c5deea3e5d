/**
 * What a subscribe sends back is bounded in the connection's own format:
 * - a `since` replay larger than conflateAt (or maxBackpressure, if lower)
 *   in the bytes the client will get is not sent: `recovered: false` and
 *   the snapshot instead. JSON runs larger than the MessagePack the history
 *   holds, so a JSON replay used to pass a MessagePack-measured check;
 * - a snapshot the client asked for may take its queue past
 *   maxBackpressure while it drains: a "*" snapshot larger than the limit
 *   used to get the client closed as a slow consumer right after it
 *   subscribed, unless it read it all within one 100 ms check.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { tcpOf } from '../helpers/slow.js';
import { updateToJson } from '../../src/pipeline/pipeline.js';

describe('a since replay is bounded by conflateAt in the output format', () => {
  const CONFLATE_AT = 16 * 1024;
  const SYMBOL = 'RB.X';
  const UPDATES = 200;
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startServer({ conflateAt: CONFLATE_AT, history: 300 });
    const feed = await ts.feed('ack=1');
    const t0 = 1_700_000_000_000_000;
    for (let i = 0; i < UPDATES; i += 50) {
      feed.sendPack(
        Array.from({ length: 50 }, (_, k) => ({
          s: SYMBOL,
          p: 1234.5678,
          t: t0 + i + k,
          b: 1234.5,
          a: 1235.5,
        })),
      );
      await feed.nextOp('ack');
    }
    await feed.close();
  });

  afterAll(async () => {
    await ts.stop();
  });

  test('the sizes this test relies on', () => {
    const history = ts.server.pipeline.symbols.get(SYMBOL)!.history;
    let msgpack = 0;
    let json = 0;
    for (let n = 1; n <= UPDATES; n++) {
      const u = history.get(n)!;
      msgpack += u.length;
      json += Buffer.byteLength(updateToJson(u)) + 1;
    }
    expect(msgpack).toBeLessThan(CONFLATE_AT);
    expect(json).toBeGreaterThan(CONFLATE_AT);
  });

  test('MessagePack: replayed (it fits)', async () => {
    const client = await ts.stream();
    client.sendPack({
      op: 'subscribe',
      symbols: [SYMBOL],
      since: { [SYMBOL]: 0 },
      epoch: ts.server.pipeline.epoch,
    });
    expect(await client.nextOp('subscribed')).toMatchObject({ recovered: true });
    const replay = await client.updates(UPDATES);
    expect(replay.map((u) => u.n)).toEqual(Array.from({ length: UPDATES }, (_, i) => i + 1));
    await client.close();
  });

  test('JSON: the same replay is larger than conflateAt: snapshot instead', async () => {
    const client = await ts.stream('format=json');
    client.sendText({
      op: 'subscribe',
      symbols: [SYMBOL],
      since: { [SYMBOL]: 0 },
      epoch: ts.server.pipeline.epoch,
    });
    expect(await client.nextOp('subscribed')).toMatchObject({ recovered: false });
    const snapshot = await client.nextData();
    expect(snapshot).toMatchObject({ op: 'snapshot', ticks: [{ s: SYMBOL, n: UPDATES }] });
    await client.close();
  });
});

describe('a snapshot larger than maxBackpressure', () => {
  const SYMBOLS = 20_000;
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startServer({ maxBackpressure: 1024 * 1024, conflateAt: 256 * 1024 });
    const feed = await ts.feed('ack=1');
    const note = 'n'.repeat(250);
    for (let i = 0; i < SYMBOLS; i += 500) {
      feed.sendPack(Array.from({ length: 500 }, (_, k) => ({ s: `RS.${i + k}`, p: 1, note })));
      await feed.nextOp('ack');
    }
    await feed.close();
  });

  afterAll(async () => {
    await ts.stop();
  });

  test('does not get a client that is still reading it closed (JSON "*", about 6 MB)', async () => {
    const client = await ts.stream('format=json');
    tcpOf(client).pause();
    client.sendText({ op: 'subscribe', symbols: ['*'] });
    // Several slow-consumer checks while it reads nothing.
    await sleep(500);
    expect(ts.server.connections.slowConsumersClosed).toBe(0);
    tcpOf(client).resume();
    const snapshot = await client.nextOp('snapshot', 10_000);
    expect(snapshot.ticks).toHaveLength(SYMBOLS);
    expect(client.isOpen).toBe(true);
    // Back under the limit: the allowance is gone, the usual limit applies again.
    await waitFor(() => {
      for (const ws of ts.server.sockets) {
        const d = ws.getUserData();
        if (d.kind === 'stream' && !d.closed) return d.replyAllowance === 0;
      }
      return false;
    }, 'the allowance to end');
    await client.close();
  });
});
