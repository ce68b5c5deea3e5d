/**
 * With --journal, /metrics has the journal's gauges: records appended,
 * bytes not yet written, records not yet synced, failed. Without a journal
 * there are none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { httpGet, startServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-jm-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const metric = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

test('journal gauges count the records appended; none without a journal', async () => {
  const ts = await startServer({ journal: dir, journalSync: 'always' });
  try {
    const feed = await ts.feed('ack=1');
    feed.sendPack([
      { s: 'JM.A', p: 1 },
      { s: 'JM.B', p: 2 },
      { s: 'JM.A', p: 3 },
    ]);
    await feed.nextOp('ack'); // with always: written and synced
    const text = (await httpGet(ts.httpUrl('/metrics'))).body;
    expect(metric(text, 'tickwire_journal_records')).toBe(3);
    expect(metric(text, 'tickwire_journal_unsynced_records')).toBe(0);
    expect(metric(text, 'tickwire_journal_unwritten_bytes')).toBe(0);
    expect(metric(text, 'tickwire_journal_failed')).toBe(0);
  } finally {
    await ts.stop();
  }
  const plain = await startServer();
  try {
    expect((await httpGet(plain.httpUrl('/metrics'))).body).not.toContain('tickwire_journal_');
  } finally {
    await plain.stop();
  }
});
