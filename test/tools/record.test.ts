/**
 * tickwire-record end to end: the built bin subscribes to a real server
 * while a feed publishes; after SIGTERM its journal holds exactly what a
 * subscriber saw (snapshot ticks, then live updates: symbols, n, bytes), in
 * order, under the server's epoch, with no torn tail. A second run into the
 * same directory skips what is already there; a server that stops ends the
 * recording with exit status 1 and a clean journal.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { waitFor } from '../helpers/clients.js';
import { ensureBuilt } from '../helpers/process.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { hex, pack, receivedUpdates, spawnTool, tempDir, type ToolRun } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

/** Publishes `frames` frames of 1 to 60 ticks over 5 symbols, with acks; returns the tick count. */
async function publish(node: TestServer, frames: number, seed: number): Promise<number> {
  const feed = await node.feed('ack=1');
  let count = 0;
  for (let f = 0; f < frames; f++) {
    const size = 1 + ((f * 37 + seed) % 60);
    const ticks = Array.from({ length: size }, (_, i) => ({
      s: `R${(f + i + seed) % 5}`,
      p: f + i / 100,
      q: i,
      ...(i % 4 === 0 ? { t: 1_765_000_000_000_000 + f * 1000 + i } : {}),
    }));
    feed.sendBytes(pack(size === 1 ? ticks[0] : ticks));
    const ack = await feed.nextOp('ack');
    expect(ack.accepted).toBe(size);
    count += size;
  }
  await feed.close();
  return count;
}

/** Starts the recorder and waits for its "recording into" line (the snapshot is in). */
async function startRecorder(node: TestServer, out: string, ...more: string[]): Promise<ToolRun> {
  const rec = spawnTool('tickwire-record', ['--url', node.wsUrl(''), '--out', out, ...more]);
  await waitFor(
    () => rec.stderr().includes('recording into') || rec.child.exitCode !== null,
    'the recorder to subscribe',
    10_000,
  );
  expect(rec.stderr()).toContain(`recording into ${out}`);
  return rec;
}

function journal(dir: string) {
  const reader = JournalReader.open(dir);
  const records = [...reader.records()].length;
  const out = [];
  for (const r of reader.records()) out.push({ symbol: r.symbol, n: r.n, update: hex(r.update) });
  expect(out).toHaveLength(records);
  return { reader, records: out };
}

describe('tickwire-record', () => {
  it('records exactly what a subscriber sees, and closes the journal on SIGTERM', async () => {
    const node = await startServer();
    const out = join(tempDir(), 'rec');
    try {
      await publish(node, 4, 1); // some last values: the snapshot has ticks
      const rec = await startRecorder(node, out);
      // Subscribed after the recorder and before anything else is published: same snapshot.
      const sub = await node.stream();
      const { snapshot } = await node.subscribe(sub, ['*']);
      const live = await publish(node, 40, 2);
      await sub.updates(live, 10_000);
      rec.child.kill('SIGTERM');
      const { code } = await rec.exited;
      expect(code).toBe(0);
      const summary = JSON.parse(rec.stdout().trim()) as Record<string, unknown>;
      const seen = receivedUpdates(sub);
      expect(seen.length).toBe((snapshot as { ticks: unknown[] }).ticks.length + live);
      const { reader, records } = journal(out);
      expect(reader.tornTail).toBeUndefined();
      expect(reader.epoch).toBe((snapshot as { epoch: string }).epoch);
      expect(reader.lastIndex).toBe(seen.length);
      expect(records.map((r) => r.update)).toEqual(seen);
      const symbols = new Set(records.map((r) => r.symbol));
      expect(summary).toMatchObject({
        updates: seen.length,
        symbols: symbols.size,
        bytes: seen.reduce((x, h) => x + h.length / 2, 0),
        skipped: 0,
        gaps: 0,
        epoch: reader.epoch,
      });
      // n per symbol: from its snapshot tick on, without a gap.
      const last = new Map<string, number>();
      for (const r of records) {
        const prev = last.get(r.symbol);
        if (prev !== undefined) expect(r.n).toBe(prev + 1);
        last.set(r.symbol, r.n);
      }

      // A second run into the same journal: the snapshot is all duplicates (skipped), live goes on.
      const again = await startRecorder(
        node,
        out,
        '--symbols',
        'R1,R2',
        '--journal-sync',
        'always',
      );
      expect(again.stderr()).toContain('(continued, epoch');
      const more = await publish(node, 10, 3);
      again.child.kill('SIGINT');
      expect((await again.exited).code).toBe(0);
      const second = JSON.parse(again.stdout().trim()) as Record<string, number>;
      expect(second.skipped).toBe(2);
      expect(second.gaps).toBe(0);
      const after = journal(out).records;
      expect(after.slice(0, records.length)).toEqual(records);
      const added = after.slice(records.length);
      expect(added.length).toBe(second.updates);
      expect(added.every((r) => r.symbol === 'R1' || r.symbol === 'R2')).toBe(true);
      expect(added.length).toBeGreaterThan(0);
      expect(added.length).toBeLessThan(more);
    } finally {
      await node.stop();
    }
  });

  it('stops after --duration', async () => {
    const node = await startServer();
    const out = join(tempDir(), 'timed');
    try {
      await publish(node, 2, 4);
      const rec = await startRecorder(node, out, '--duration', '0.3');
      const { code } = await rec.exited;
      expect(code).toBe(0);
      expect(JSON.parse(rec.stdout().trim())).toMatchObject({ updates: 5, symbols: 5, skipped: 0 });
      expect(JournalReader.open(out).lastIndex).toBe(5);
    } finally {
      await node.stop();
    }
  });

  it('a server that stops ends the recording: journal closed, exit 1 with the close reason', async () => {
    const node = await startServer();
    const out = join(tempDir(), 'closed');
    let stopped = false;
    try {
      const rec = await startRecorder(node, out);
      const live = await publish(node, 5, 5);
      await node.stop();
      stopped = true;
      const { code } = await rec.exited;
      expect(code).toBe(1);
      expect(rec.stderr()).toMatch(
        /the server closed the stream \(1001 going away.*\) \[server_closed\]/,
      );
      expect(JSON.parse(rec.stdout().trim())).toMatchObject({ updates: live, skipped: 0 });
      const reader = JournalReader.open(out);
      expect(reader.tornTail).toBeUndefined();
      expect(reader.lastIndex).toBe(live);
    } finally {
      if (!stopped) await node.stop();
    }
  });
});
