/**
 * tickwire-replay --max-gap: a recorded silence longer than S seconds is
 * shortened to S (default 10; 0 keeps every gap): a night, or the time
 * between a recording's snapshot ticks (which keep the `r` they had on the
 * server, hours old perhaps) and its live updates. Loose bounds: the
 * machine may be busy.
 */
import { beforeAll, expect, test } from 'vitest';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { ensureBuilt } from '../helpers/process.js';
import { FEED_TOKEN, startServer } from '../helpers/server.js';
import { makeUpdate, runTool, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

test('with --max-gap 1, a 3 h gap after a snapshot tick and a 3 s silence take about 1 s each', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'gap' });
  const r0 = 1_765_000_000_000_000;
  // A snapshot tick 3 hours older than the next, then live updates 3 s apart.
  const rs = [r0 - 3 * 3600e6, r0, r0 + 3e6, r0 + 3e6];
  rs.forEach((r, i) => writer.append('G', i + 1, r, makeUpdate({ s: 'G', p: i }, i + 1, r)));
  await writer.close();
  const node = await startServer();
  try {
    const run = await runTool('tickwire-replay', [
      '--journal',
      dir,
      '--url',
      node.wsUrl('/'),
      '--feed-token',
      FEED_TOKEN,
      '--max-gap',
      '1',
    ]);
    expect(run.code).toBe(0);
    const s = run.summary as { ticks: number; accepted: number; seconds: number };
    expect(s).toMatchObject({ ticks: 4, accepted: 4 });
    expect(s.seconds).toBeGreaterThanOrEqual(1.9);
    expect(s.seconds).toBeLessThan(3.5);
  } finally {
    await node.stop();
  }
});
