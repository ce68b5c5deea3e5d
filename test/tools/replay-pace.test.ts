/**
 * tickwire-replay's pace: at --speed 1 records ~200 ms apart in `r` take
 * about that long to replay, at --speed 4 clearly less; ticks due in the
 * same millisecond travel in one frame. Bounds are loose on purpose: the
 * machine may be busy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { waitFor } from '../helpers/clients.js';
import { ensureBuilt } from '../helpers/process.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';
import { makeUpdate, runTool, spawnTool, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

/** 6 records: 3 at r0, 1 at r0 + 200 ms, 2 at r0 + 400 ms. */
async function pacedJournal(): Promise<string> {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'pace' });
  const r0 = 1_765_000_000_000_000;
  const at = [0, 0, 0, 200_000, 400_000, 400_000];
  at.forEach((dt, i) =>
    writer.append('P', i + 1, r0 + dt, makeUpdate({ s: 'P', p: i }, i + 1, r0 + dt)),
  );
  await writer.close();
  return dir;
}

async function replay(dir: string, node: TestServer, speed: string) {
  const run = await runTool('tickwire-replay', [
    '--journal',
    dir,
    '--url',
    node.wsUrl('/'),
    '--feed-token',
    FEED_TOKEN,
    '--speed',
    speed,
    '--batch',
    '2',
  ]);
  expect(run.code).toBe(0);
  return run.summary as { ticks: number; frames: number; accepted: number; seconds: number };
}

describe('tickwire-replay pace', () => {
  it('keeps the recorded gaps at --speed 1, shrinks them at --speed 4, ignores them at max', async () => {
    const dir = await pacedJournal();
    const node = await startServer();
    try {
      const slow = await replay(dir, node, '1');
      const fast = await replay(dir, node, '4');
      const max = await replay(dir, node, 'max');
      // One frame per millisecond of recorded time at a finite speed; --batch only at max.
      expect(slow).toMatchObject({ ticks: 6, accepted: 6, frames: 3 });
      expect(fast).toMatchObject({ ticks: 6, accepted: 6, frames: 3 });
      expect(max).toMatchObject({ ticks: 6, accepted: 6, frames: 3 });
      expect(slow.seconds).toBeGreaterThanOrEqual(0.38);
      expect(fast.seconds).toBeGreaterThanOrEqual(0.09);
      expect(fast.seconds).toBeLessThan(slow.seconds - 0.15);
      expect(max.seconds).toBeLessThan(slow.seconds - 0.15);
      console.log(
        `pace: --speed 1 ${slow.seconds} s, --speed 4 ${fast.seconds} s, max ${max.seconds} s`,
      );
      // Every replay fed the same symbol: 18 updates, numbered on.
      expect((await node.stats()).ticks.published).toBe(18);
    } finally {
      await node.stop();
    }
  });

  it('SIGINT stops it: the frames in flight acknowledged, the summary printed, exit 130', async () => {
    const dir = tempDir();
    const writer = await JournalWriter.open(dir, { epoch: 'pace-int' });
    const r0 = 1_765_000_000_000_000;
    for (let i = 1; i <= 100; i++) {
      writer.append('I', i, r0 + i * 20_000, makeUpdate({ s: 'I', p: i }, i, r0 + i * 20_000));
    }
    await writer.close();
    const node = await startServer();
    try {
      const run = spawnTool(
        'tickwire-replay',
        ['--journal', dir, '--url', node.wsUrl(''), '--quiet'],
        {
          TICKWIRE_FEED_TOKEN: FEED_TOKEN,
        },
      );
      await waitFor(async () => (await node.stats()).ticks.published >= 5, 'some ticks', 10_000);
      run.child.kill('SIGINT');
      expect((await run.exited).code).toBe(130);
      const summary = JSON.parse(run.stdout().trim()) as Record<string, number>;
      expect(summary.ticks).toBeGreaterThan(0);
      expect(summary.ticks).toBeLessThan(100);
      expect(summary.accepted).toBe(summary.ticks);
      expect((await node.stats()).ticks.published).toBe(summary.ticks);
    } finally {
      await node.stop();
    }
  });

  it('fractional speeds slow the replay down', async () => {
    const dir = tempDir();
    const writer = await JournalWriter.open(dir, { epoch: 'pace-slow' });
    const r0 = 1_765_000_000_000_000;
    writer.append('Q', 1, r0, makeUpdate({ s: 'Q', p: 1 }, 1, r0));
    writer.append('Q', 2, r0 + 50_000, makeUpdate({ s: 'Q', p: 2 }, 2, r0 + 50_000));
    await writer.close();
    const node = await startServer();
    try {
      const half = await replay(dir, node, '0.25');
      expect(half).toMatchObject({ ticks: 2, frames: 2 });
      expect(half.seconds).toBeGreaterThanOrEqual(0.19);
    } finally {
      await node.stop();
    }
  });
});
