/**
 * A damaged journal at start: a torn tail (the record being written when a
 * run stopped, cut short) is cut with one log line and everything before it
 * is restored; a damaged record followed by good ones is corruption, and
 * the server refuses to start with journal_corrupt instead of loading half.
 */
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, test, vi } from 'vitest';
import type { Update } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const dirs: string[] = [];

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A journal with `count` updates of JD.A (p 1..count), written by a server that stopped cleanly. */
async function journalWith(count: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-jd-'));
  dirs.push(dir);
  const ts = await startServer({ journal: dir });
  const feed = await ts.feed('ack=1');
  feed.sendPack(Array.from({ length: count }, (_, i) => ({ s: 'JD.A', p: i + 1 })));
  await feed.nextOp('ack');
  await ts.stop();
  return dir;
}

const segment = (dir: string) =>
  join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.twj'))!,
  );

function captureStderr(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

test('a torn tail is cut with one log line; the updates before it are restored', async () => {
  const dir = await journalWith(5);
  // Half a record: a length and part of a checksum, as a crash mid-write leaves it.
  appendFileSync(segment(dir), Buffer.from([0, 0, 0, 80, 0x12, 0x34]));
  const logged = captureStderr();
  const ts: TestServer = await startServer({ journal: dir });
  try {
    expect(logged.filter((l) => l.includes('cut a torn tail'))).toHaveLength(1);
    expect(logged.join('')).toMatch(/cut a torn tail of 6 bytes/);
    const sub = await ts.stream('symbols=JD.A');
    const snap = (await sub.nextOp('snapshot')) as { ticks: Update[] };
    expect(snap.ticks.map((u) => [u.n, u.p])).toEqual([[5, 5]]);
  } finally {
    await ts.stop();
  }
});

test('a damaged record followed by good ones: the server refuses to start (journal_corrupt)', async () => {
  const dir = await journalWith(5);
  const file = segment(dir);
  const bytes = readFileSync(file);
  // A byte inside the second record's update (the records are ~50 bytes
  // each after a 60-byte header): its checksum no longer matches.
  bytes[60 + 60 + 40]! ^= 0xff;
  writeFileSync(file, bytes);
  captureStderr();
  await expect(startServer({ journal: dir })).rejects.toMatchObject({ code: 'journal_corrupt' });
});
