/**
 * A journal whose numbering has gaps (a recording made by tickwire-record
 * while the subscriber missed updates, used as a --journal): each update is
 * restored under its own n, so history slot N holds the update numbered N,
 * and the history starts afresh after a gap rather than labelling updates
 * with numbers they did not have.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, expect, test } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { JournalLink } from '../../src/server/journal-link.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-jg-'));
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
const silent: Publisher = { publish: () => undefined, subscribers: () => 0 };

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('updates are restored under their own n; a gap starts the history afresh', async () => {
  const writer = await JournalWriter.open(dir, { epoch: 'gaps' });
  for (const n of [1, 2, 5, 6]) {
    writer.append('G', n, 1_765_000_000_000_000 + n, packr.pack({ s: 'G', p: n, n, r: n }));
  }
  await writer.close();
  const pipeline = new Pipeline(silent, { history: 10 });
  const link = await JournalLink.open(buildConfig({ journal: dir, history: 10 }), pipeline);
  try {
    const e = pipeline.symbols.get('G')!;
    expect(e.seq).toBe(6);
    expect((unpackr.unpack(e.history.get(5)!) as { p: number }).p).toBe(5);
    expect((unpackr.unpack(e.history.get(6)!) as { p: number }).p).toBe(6);
    expect(e.history.get(2)).toBeUndefined();
    expect(e.history.first).toBe(5);
  } finally {
    await link.close();
  }
});
