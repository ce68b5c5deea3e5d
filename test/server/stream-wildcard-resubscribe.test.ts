/**
 * Bus mode (NATS): the wildcard updates a bus delivers in one event-loop
 * turn are collected and published to "*" as one frame when the turn ends
 * (WildcardBatcher). A "*" subscriber that subscribes to "*" again in the
 * same turn must still see `subscribed`, then the snapshot, then live
 * updates: the collected updates used to be flushed by the snapshot, after
 * `subscribed`, so they arrived between the two (and again inside the
 * snapshot).
 *
 * The updates come in through Pipeline.deliverBatch, the call the NATS bus
 * makes for what JetStream delivers, so that a delivery and the subscribe
 * land in the same turn every round: the test's code resumes from a timer,
 * delivers, and the subscribe it has just written is read by uWS in the
 * poll phase of that same turn, before the batcher's setImmediate.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isRecord, pack, sleep, updatesOf } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { nowUs } from '../../src/pipeline/clock.js';
import { encodeBatch } from '../../src/pipeline/update-batch.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

/** One update of `symbol` numbered `n`, in the bus's batch format. */
function batch(symbol: string, n: number): Uint8Array {
  const map = pack({ s: symbol, p: n });
  // The body is everything after the map header (map16 from this packer, else fixmap).
  const body = map.subarray(map[0] === 0xde ? 3 : 1);
  return encodeBatch([{ entries: 2, body, rUs: nowUs() }], n);
}

test('subscribing "*" again in the same turn as a bus delivery: subscribed, snapshot, then live', async () => {
  const entry = ts.server.pipeline.symbols.internName('WR.A')!;
  const sub = await ts.stream('symbols=*');
  await sub.nextOp('snapshot');
  ts.server.pipeline.deliverBatch(entry, batch('WR.A', 1));
  expect(await sub.update()).toMatchObject({ s: 'WR.A', n: 1 });

  const ROUNDS = 20;
  for (let n = 2; n < ROUNDS + 2; n++) {
    await sleep(1);
    sub.sendPack({ op: 'subscribe', symbols: ['*'] });
    ts.server.pipeline.deliverBatch(entry, batch('WR.A', n));
    await sub.nextOp('subscribed');
    // Straight after `subscribed`: the snapshot, with this round's update in it.
    const next = await sub.nextData();
    expect(isRecord(next) && next.op).toBe('snapshot');
    expect(next.ticks).toEqual([expect.objectContaining({ s: 'WR.A', n })]);
  }
  // Every update arrived once, live (before `subscribed` or after the snapshot).
  const live = sub.history.flatMap((m) => updatesOf(m.data) ?? []).map((u) => u.n);
  expect(live).toEqual(Array.from({ length: ROUNDS + 1 }, (_, i) => i + 1));
});
