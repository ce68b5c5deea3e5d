/**
 * uWS holds what is published for a socket until the end of the event-loop
 * turn, and used to drop it when the socket left its last topic before then.
 * A live update published in the same turn as an unsubscribe (of anything)
 * must still arrive: here a feed tick and an unsubscribe are sent together,
 * round after round, so the server reads both in one turn, and every live
 * update must arrive, gap-free. Covered: a socket with conflation/throttle
 * state (every unsubscribe used to leave all topics), and unsubscribing "*"
 * (the socket's only topic). The never-published topic that prevents it is
 * kept out of the subscriber counts.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type TestClient, sleep, waitFor } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { bySymbol, receivedUpdates } from '../helpers/slow.js';
import { HOLD_TOPIC } from '../../src/server/uws-publisher.js';

const ROUNDS = 60;

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

/** Live updates of `symbol` (snapshots are control messages and not counted). */
function liveNs(client: TestClient, symbol: string): number[] {
  return bySymbol(receivedUpdates(client)).get(symbol) ?? [];
}

test('a socket once throttled: a tick and an unrelated unsubscribe in one turn lose nothing', async () => {
  const feed = await ts.feed();
  const sub = await ts.stream();
  // The throttle gives the socket its delivery state for good.
  sub.sendPack({ op: 'subscribe', symbols: ['UH.SLOW'], throttle: 1000 });
  await sub.nextOp('snapshot');
  sub.sendPack({ op: 'subscribe', symbols: ['UH.A'] });
  await sub.nextOp('snapshot');
  for (let i = 0; i < ROUNDS; i++) {
    feed.sendPack({ s: 'UH.A', p: i });
    sub.sendPack({ op: 'unsubscribe', symbols: ['UH.ZZZ'] });
    await sleep(3);
  }
  await waitFor(() => liveNs(sub, 'UH.A').at(-1) === ROUNDS, 'the last update', 5000).catch(
    () => undefined,
  );
  expect(liveNs(sub, 'UH.A')).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
  await Promise.all([sub.close(), feed.close()]);
});

test('unsubscribing "*" in the same turn as a tick: the tick published on "*" arrives', async () => {
  const feed = await ts.feed();
  const sub = await ts.stream();
  sub.sendPack({ op: 'subscribe', symbols: ['UH.B', '*'] });
  await sub.nextOp('snapshot');
  for (let i = 0; i < ROUNDS; i++) {
    feed.sendPack({ s: 'UH.B', p: i });
    sub.sendPack({ op: 'unsubscribe', symbols: ['*'] });
    await sleep(3);
    sub.sendPack({ op: 'subscribe', symbols: ['*'] });
    await sleep(3);
  }
  await waitFor(() => liveNs(sub, 'UH.B').at(-1) === ROUNDS, 'the last update', 5000).catch(
    () => undefined,
  );
  // Each update was published while the socket was on "*" or on UH.B: all arrive live.
  expect(liveNs(sub, 'UH.B')).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
  await Promise.all([sub.close(), feed.close()]);
});

test('the hold topic counts as no subscription', async () => {
  const before = (await ts.stats()).connections.subscribers;
  const subs = await Promise.all([ts.stream(), ts.stream('symbols=UH.C')]);
  await subs[1].nextOp('snapshot');
  expect(ts.server.publisher.subscribers(HOLD_TOPIC)).toBe(0);
  expect(ts.server.publisher.subscribers('m:UH.C')).toBe(1);
  expect((await ts.stats()).connections.subscribers).toBe(before + 2);
  await Promise.all(subs.map((s) => s.close()));
});
