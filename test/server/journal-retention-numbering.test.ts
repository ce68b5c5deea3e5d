/**
 * Retention may delete every record of a symbol that went quiet; after a
 * clean restart its numbering must still continue under the same epoch
 * (n reused under one epoch would let a `since` from before be answered
 * recovered:true with other updates). The last n of every symbol is kept in
 * DIR/state.json at a clean stop. Tiny segments (the test seam
 * JournalTuning) make retention act on a few hundred records.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, expect, test } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { JournalLink } from '../../src/server/journal-link.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-jrn-'));
const packr = new Packr({ useRecords: false });

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const silent: Publisher = { publish: () => undefined, subscribers: () => 0 };
const config = buildConfig({ journal: dir, history: 5, feedToken: 'x' });
const tuning = { maxSegmentBytes: 1000, maxBytes: 2000 };

function feed(pipeline: Pipeline, s: string, count: number): void {
  for (let i = 0; i < count; i++) pipeline.process(packr.pack({ s, p: i }), performance.now());
  pipeline.flush();
}

test('a symbol whose records retention deleted continues its numbering after a clean restart', async () => {
  const first = new Pipeline(silent, { history: 5 });
  const link = await JournalLink.open(config, first, tuning);
  feed(first, 'QUIET', 50);
  feed(first, 'BUSY', 400);
  await new Promise((r) => setTimeout(r, 50));
  await link.writer.checkRetention();
  expect(readdirSync(dir).filter((f) => f.endsWith('.twj')).length).toBeGreaterThan(0);
  const epoch = first.epoch;
  await link.close();

  const second = new Pipeline(silent, { history: 5 });
  const again = await JournalLink.open(config, second, tuning);
  try {
    // Retention left none of QUIET's records: its numbering comes from state.json.
    expect(again.report.symbols).toBe(1);
    expect(second.epoch).toBe(epoch);
    expect(second.symbols.get('QUIET')?.seq).toBe(50);
    expect(second.symbols.get('BUSY')?.seq).toBe(400);
    feed(second, 'QUIET', 1);
    expect(second.symbols.get('QUIET')?.seq).toBe(51);
  } finally {
    await again.close();
  }
});
