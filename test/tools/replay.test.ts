/**
 * tickwire-replay end to end: a journal written by a real server (A) is
 * replayed by the built bin into a fresh server (B), whose subscriber must
 * see every symbol's ticks again, in order, byte for byte apart from `r`
 * (and `n`, which B numbers 1..k itself); filters (--symbols, --from, --to)
 * pick exactly what the journal reader picks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { JournalReader, type ReadOptions } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { readUpdate, stripUpdate } from '../../src/tools/strip.js';
import type { TestClient } from '../helpers/clients.js';
import { ensureBuilt } from '../helpers/process.js';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';
import { hex, makeUpdate, pack, receivedUpdates, runTool, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

const SYMBOLS = ['AAA', 'BBB', 'C.C', 'D:D/1'];
/** Ticks per frame published to A: single ticks, small and large batches. */
const FRAMES = [1, 1, 40, 1, 300, 7, 1, 900, 2, 150, 1];

function tickAt(i: number): Record<string, unknown> {
  const s = SYMBOLS[(i * 7 + (i >> 3)) % SYMBOLS.length]!;
  const t: Record<string, unknown> = { s, p: 100 + i / 8, q: i % 5, t: 1_765_000_000_000_000 + i };
  if (i % 11 === 0) t.venue = `X${i % 3}`;
  // Every 13th tick has 16 keys: map16 on the wire and in the journal.
  if (i % 13 === 0) for (let k = 0; k < 12; k++) t[`k${k}`] = k * i;
  return t;
}

/** Publishes FRAMES to `node` with acks; returns the ticks per symbol in order. */
async function publish(node: TestServer): Promise<Map<string, Record<string, unknown>[]>> {
  const feed = await node.feed('ack=1');
  const bySymbol = new Map<string, Record<string, unknown>[]>();
  let i = 0;
  for (const size of FRAMES) {
    const ticks = Array.from({ length: size }, () => tickAt(i++));
    for (const t of ticks) bySymbol.set(t.s as string, [...(bySymbol.get(t.s as string) ?? []), t]);
    feed.sendBytes(pack(size === 1 ? ticks[0] : ticks));
    const ack = await feed.nextOp('ack');
    expect([ack.accepted, ack.rejected]).toEqual([size, 0]);
  }
  await feed.close();
  return bySymbol;
}

/** The journal's updates, stripped, per symbol in order (hex), and their n. */
function journalBySymbol(dir: string, read: ReadOptions = {}): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rec of JournalReader.open(dir).records(read)) {
    const list = out.get(rec.symbol) ?? [];
    if (read.fromTimeUs === undefined) expect(rec.n).toBe(list.length + 1);
    list.push(hex(stripUpdate(rec.update)));
    out.set(rec.symbol, list);
  }
  return out;
}

/** What `client` received, stripped, per symbol in order; checks n is 1..k per symbol. */
function deliveredBySymbol(client: TestClient): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const h of receivedUpdates(client)) {
    const bytes = Buffer.from(h, 'hex');
    const u = readUpdate(bytes);
    const symbol = bytes.toString('utf8', u.symbolStart, u.symbolEnd);
    const list = out.get(symbol) ?? [];
    expect(u.n).toBe(list.length + 1);
    list.push(hex(stripUpdate(bytes)));
    out.set(symbol, list);
  }
  return out;
}

function replayArgs(dir: string, node: TestServer, ...more: string[]): string[] {
  return ['--journal', dir, '--url', node.wsUrl(''), '--quiet', ...more];
}

describe('tickwire-replay', () => {
  it('replays a journal into a fresh server: same ticks, same order per symbol, n from 1', async () => {
    const dirA = tempDir();
    const a = await startServer({ journal: dirA });
    const sent = await publish(a);
    await a.stop();
    const total = FRAMES.reduce((x, y) => x + y, 0);
    const journal = journalBySymbol(dirA);
    expect([...journal.values()].reduce((x, l) => x + l.length, 0)).toBe(total);

    const b = await startServer();
    try {
      const sub = await b.stream();
      await b.subscribe(sub, ['*']);
      const run = await runTool('tickwire-replay', replayArgs(dirA, b, '--speed', 'max'), {
        TICKWIRE_FEED_TOKEN: FEED_TOKEN,
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({ ticks: total, accepted: total, rejected: 0 });
      expect(run.summary!.frames).toBe(Math.ceil(total / 100));
      expect(Object.keys(run.summary!)).toEqual([
        'ticks',
        'frames',
        'accepted',
        'rejected',
        'seconds',
        'rate',
      ]);
      const updates = await sub.updates(total, 10_000);
      // Decoded: the ticks as sent, plus n (1..k per symbol) and r.
      const seen = new Map<string, number>();
      for (const u of updates) {
        const k = (seen.get(u.s) ?? 0) + 1;
        seen.set(u.s, k);
        const { n, r, ...tick } = u;
        expect(n).toBe(k);
        expect(typeof r).toBe('number');
        expect(tick).toEqual(sent.get(u.s)![k - 1]);
      }
      // Bytes: what B delivered is what A journaled, pair for pair.
      expect(deliveredBySymbol(sub)).toEqual(journal);
    } finally {
      await b.stop();
    }
  });

  it('replays only --symbols within --from (µs) and --to (ISO time)', async () => {
    const dir = tempDir();
    const writer = await JournalWriter.open(dir, { epoch: 'replay-filters' });
    const base = 1_765_000_000_000_000;
    const names = ['X', 'Y', 'Z'];
    for (let i = 0; i < 300; i++) {
      const s = names[i % 3]!;
      const n = Math.floor(i / 3) + 1;
      writer.append(s, n, base + i * 1000, makeUpdate({ s, p: i, i }, n, base + i * 1000));
    }
    await writer.close();
    const fromUs = base + 50_000;
    const toIso = new Date((base + 200_000) / 1000).toISOString();
    const read = { symbols: ['X', 'Z'], fromTimeUs: fromUs, toTimeUs: base + 200_000 };
    const expected = journalBySymbol(dir, read);
    const node = await startServer();
    try {
      const sub = await node.stream();
      await node.subscribe(sub, ['*']);
      const args = ['--symbols', 'X,Z', '--from', String(fromUs), '--to', toIso, '--speed', 'max'];
      const run = await runTool('tickwire-replay', [
        ...replayArgs(dir, node, ...args),
        '--feed-token',
        FEED_TOKEN,
        '--batch',
        '7',
      ]);
      expect(run.code).toBe(0);
      const count = [...expected.values()].reduce((x, l) => x + l.length, 0);
      expect(count).toBe(100);
      expect(run.summary).toMatchObject({
        ticks: count,
        accepted: count,
        frames: Math.ceil(count / 7),
      });
      await sub.updates(count, 10_000);
      expect(deliveredBySymbol(sub)).toEqual(expected);
    } finally {
      await node.stop();
    }
  });

  // TW_REPLAY_RATE_TICKS=200000 for a steadier figure (the default keeps the suite quick).
  const ticks = Number(process.env.TW_REPLAY_RATE_TICKS ?? 20_000);
  it(`measures --speed max into a local server (${ticks} ticks, 50 symbols)`, async () => {
    const dir = tempDir();
    const writer = await JournalWriter.open(dir, { epoch: 'replay-rate' });
    const base = 1_765_000_000_000_000;
    for (let i = 0; i < ticks; i++) {
      const s = `S${i % 50}`;
      const n = Math.floor(i / 50) + 1;
      writer.append(s, n, base + i, makeUpdate({ s, p: 100 + i / 100, q: 1 }, n, base + i));
    }
    await writer.close();
    const node = await startServer();
    try {
      const run = await runTool('tickwire-replay', [...replayArgs(dir, node, '--speed', 'max')], {
        TICKWIRE_FEED_TOKEN: FEED_TOKEN,
      });
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({ ticks, accepted: ticks, frames: Math.ceil(ticks / 100) });
      console.log(`replay --speed max: ${JSON.stringify(run.summary)}`);
    } finally {
      await node.stop();
    }
  });
});
