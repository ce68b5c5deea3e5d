/**
 * --journal across a clean restart (SIGTERM's stop()): the next server on
 * the same directory has the same epoch, the same last values in its
 * snapshots, numbering that continues, and a `since` from before the
 * restart recovers from history (recovered: true, exactly the missed
 * updates). Real servers on port 0, one after the other, on a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { type Update, updatesOf } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-journal-'));
const opened: TestServer[] = [];

afterAll(async () => {
  for (const ts of opened) await ts.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<TestServer> {
  const ts = await startServer({ journal: dir, history: 20 });
  opened.push(ts);
  return ts;
}

async function publish(ts: TestServer, s: string, prices: number[]): Promise<void> {
  const feed = await ts.feed('ack=1');
  feed.sendPack(prices.map((p) => ({ s, p })));
  expect(await feed.nextOp('ack')).toMatchObject({ accepted: prices.length, rejected: 0 });
  await feed.close();
}

test('a clean restart keeps epoch, last values and numbering; since recovers across it', async () => {
  const first = await start();
  await publish(first, 'JR.A', [1, 2, 3, 4, 5]);
  await publish(first, 'JR.B', [10, 20]);
  const epoch = first.server.pipeline.epoch;
  const before = await first.stream('symbols=JR.A,JR.B');
  const snapBefore = ((await before.nextOp('snapshot')) as { ticks: Update[] }).ticks;
  await first.stop();
  opened.length = 0;

  const second = await start();
  expect(second.server.pipeline.epoch).toBe(epoch);
  const after = await second.stream();
  const { snapshot } = await second.subscribe(after, ['JR.A', 'JR.B']);
  expect(snapshot).toEqual({ op: 'snapshot', epoch, ticks: expect.any(Array) as unknown });
  const ticks = (snapshot as { ticks: Update[] }).ticks;
  expect(ticks.map((u) => [u.s, u.p, u.n, u.r])).toEqual(
    snapBefore.map((u) => [u.s, u.p, u.n, u.r]),
  );
  expect(ticks.map((u) => `${u.s}#${u.n}`).sort()).toEqual(['JR.A#5', 'JR.B#2']);

  // Numbering continues after the restart.
  await publish(second, 'JR.A', [6]);
  expect(await after.update()).toMatchObject({ s: 'JR.A', p: 6, n: 6 });

  // A subscriber that saw JR.A up to n 3 before the restart resumes from history.
  const resumed = await second.stream();
  resumed.sendPack({ op: 'subscribe', symbols: ['JR.A'], since: { 'JR.A': 3 }, epoch });
  expect(await resumed.nextOp('subscribed')).toMatchObject({ recovered: true, epoch });
  const replay = updatesOf(await resumed.nextData())!;
  expect(replay.map((u: Update) => [u.n, u.p])).toEqual([
    [4, 4],
    [5, 5],
    [6, 6],
  ]);
});
