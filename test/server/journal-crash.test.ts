/**
 * --journal after `kill -9`, under each --journal-sync mode (server as a
 * process, `node dist/src/main.js`): a feed publishes with acks, first
 * waiting for every ack, then streaming, and the server is killed as soon
 * as one ack of the stream came back. The journal then holds every update
 * that was acknowledged (a process crash loses nothing handed to the OS,
 * and acks wait for that, or for the sync with `always`). The next server
 * on the directory restores exactly the journal's last values, continues
 * each symbol's numbering after them, and, because the stop was not clean,
 * names a new epoch (a `since` from before the crash gets recovered: false).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { type Update, connect, unpack } from '../helpers/clients.js';
import { type RunningServer, ensureBuilt, startProcess, stopProcess } from '../helpers/process.js';

const TOKEN = 'journal-crash-token';
const SYMBOLS = ['JC.A', 'JC.B', 'JC.C', 'JC.D'];
const running: RunningServer[] = [];
const dirs: string[] = [];

beforeAll(() => {
  ensureBuilt();
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((s) => stopProcess(s, 'SIGKILL').catch(() => undefined)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, sync: string): Promise<RunningServer> {
  const s = await startProcess([
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--feed-token',
    TOKEN,
    '--journal',
    dir,
    '--journal-sync',
    sync,
    '--history',
    '1000',
  ]);
  running.push(s);
  return s;
}

/** Frame f: ten ticks, symbol by position, price f*100+i (unique per tick). */
const frame = (f: number) =>
  Array.from({ length: 10 }, (_, i) => ({ s: SYMBOLS[i % SYMBOLS.length]!, p: f * 100 + i }));

/** Each symbol's last price in frames 1..f. */
function lastPrices(f: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let k = 1; k <= f; k++) for (const t of frame(k)) out.set(t.s, t.p);
  return out;
}

/** symbol → [n, price] of its last record, and every (symbol, price) journaled. */
function readJournal(dir: string) {
  const reader = JournalReader.open(dir);
  const last = new Map<string, [number, number]>();
  const prices = new Set<string>();
  for (const r of reader.records()) {
    const u = unpack(r.update) as Update;
    expect(u.s).toBe(r.symbol);
    expect(u.n).toBe(r.n);
    last.set(r.symbol, [r.n, u.p]);
    prices.add(`${r.symbol}:${String(u.p)}`);
  }
  return { last, prices, epoch: reader.epoch! };
}

for (const sync of ['always', 'interval', 'never']) {
  test(`kill -9 under --journal-sync ${sync}: acked updates kept, numbering continues, new epoch`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tickwire-jc-${sync}-`));
    dirs.push(dir);
    const first = await start(dir, sync);
    const feed = await connect(`ws://127.0.0.1:${first.port}/feed?ack=1&token=${TOKEN}`);
    // Phase 1: 20 frames, every ack awaited.
    for (let f = 1; f <= 20; f++) {
      feed.sendPack(frame(f));
      expect(await feed.nextOp('ack')).toMatchObject({ frame: f, accepted: 10 });
    }
    const sub = await connect(`ws://127.0.0.1:${first.port}/stream?symbols=JC.A`);
    const epochBefore = ((await sub.nextOp('snapshot')) as { epoch: string }).epoch;
    // Phase 2: 200 frames at once; killed at the first ack of them.
    for (let f = 21; f <= 220; f++) feed.sendPack(frame(f));
    const firstAck = (await feed.nextOp('ack')) as { frame: number };
    first.child.kill('SIGKILL');
    await first.exited;

    const j = readJournal(dir);
    // Every acknowledged update is in the journal.
    for (let f = 1; f <= firstAck.frame; f++)
      for (const t of frame(f)) expect(j.prices.has(`${t.s}:${t.p}`)).toBe(true);
    for (const [s, p] of lastPrices(firstAck.frame))
      expect(j.last.get(s)![1]).toBeGreaterThanOrEqual(p);

    const second = await start(dir, sync);
    expect(second.stderr()).toContain('did not stop cleanly');
    const after = await connect(`ws://127.0.0.1:${second.port}/stream?symbols=*`);
    const snap = (await after.nextOp('snapshot')) as { epoch: string; ticks: Update[] };
    expect(snap.epoch).not.toBe(epochBefore);
    expect(snap.epoch.startsWith(j.epoch)).toBe(true);
    // The snapshot is exactly the journal's last value of each symbol.
    expect(snap.ticks.map((u) => [u.s, u.n, u.p]).sort()).toEqual(
      [...j.last].map(([s, [n, p]]) => [s, n, p]).sort(),
    );
    // Numbering continues after what the journal holds.
    const feed2 = await connect(`ws://127.0.0.1:${second.port}/feed?ack=1&token=${TOKEN}`);
    feed2.sendPack({ s: 'JC.A', p: -1 });
    await feed2.nextOp('ack');
    expect(await after.update()).toMatchObject({ s: 'JC.A', p: -1, n: j.last.get('JC.A')![0] + 1 });
    expect(await stopProcess(second)).toEqual({ code: 0, signal: null });
  });
}
