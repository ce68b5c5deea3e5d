import { expect, test } from 'vitest';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { readSymbolStates } from '../../src/journal/rebuild.js';
import { bytes, hex, readAll, tempDir } from './helpers.js';

const R0 = 1_765_000_000_000_000;
/** Sizes from 1 byte to the 1 MiB maximum, with the 256-byte CRC switch on both sides. */
const SIZES = [1, 2, 7, 8, 9, 60, 255, 256, 257, 1000, 4096, 65_536, 1024 * 1024];
const SYMBOLS = ['A', 'BTC-USD', 'NASDAQ:MSFT', 'é€𝄞', 'x'.repeat(64)];

interface Row {
  readonly symbol: string;
  readonly n: number;
  readonly r: number;
  readonly update: Uint8Array;
}

function rows(): Row[] {
  const out: Row[] = [];
  const next = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const symbol = SYMBOLS[i % SYMBOLS.length]!;
    const n = (next.get(symbol) ?? 0) + 1;
    next.set(symbol, n);
    const size = i < SIZES.length ? SIZES[i]! : 1 + ((i * 37) % 300);
    out.push({ symbol, n, r: R0 + i * 1000, update: bytes(size, i) });
  }
  // n and r past 2^32 and up to 2^53 - 1 (two u32 halves on disk).
  out.push({ symbol: 'BIG', n: 2 ** 32 + 5, r: Number.MAX_SAFE_INTEGER, update: bytes(3, 1) });
  return out;
}

test('records of every size and symbol kind read back exactly, with their indexes', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'round-1', sync: 'never' });
  expect(writer.created).toBe(true);
  const input = rows();
  const indexes = input.map((row) => writer.append(row.symbol, row.n, row.r, row.update));
  expect(indexes).toEqual(input.map((_, i) => i + 1));
  await writer.close();

  const out = readAll(dir);
  expect(out.map((r) => r.index)).toEqual(indexes);
  expect(out.map(({ symbol, n, r, update }) => ({ symbol, n, r, update }))).toEqual(
    input.map((row) => ({ ...row, update: hex(row.update) })),
  );
  const reader = JournalReader.open(dir);
  expect(reader.epoch).toBe('round-1');
  expect(reader.lastIndex).toBe(input.length);
  expect(reader.tornTail).toBeUndefined();
});

test('reads from an index, a time range and a set of symbols', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'round-2', maxSegmentBytes: 2000 });
  const input = rows().slice(20, 320);
  for (const row of input) writer.append(row.symbol, row.n, row.r, row.update);
  await writer.close();
  expect(JournalReader.open(dir).segments.length).toBeGreaterThan(5);

  expect(readAll(dir, { fromIndex: 123 }).map((r) => r.index)).toEqual(
    input.slice(122).map((_, i) => 123 + i),
  );
  const from = input[50]!.r;
  const to = input[90]!.r;
  expect(readAll(dir, { fromTimeUs: from, toTimeUs: to }).map((r) => r.r)).toEqual(
    input.slice(50, 90).map((row) => row.r),
  );
  expect(readAll(dir, { symbols: ['A', 'é€𝄞'], fromIndex: 200 }).map((r) => r.index)).toEqual(
    input
      .map((row, i) => ({ row, index: i + 1 }))
      .filter(({ row, index }) => index >= 200 && (row.symbol === 'A' || row.symbol === 'é€𝄞'))
      .map(({ index }) => index),
  );
});

test('per-symbol state for a restart: last n, last r and the last K updates in order', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'round-3', maxSegmentBytes: 4096 });
  const input = rows();
  for (const row of input) writer.append(row.symbol, row.n, row.r, row.update);
  await writer.close();

  const states = readSymbolStates(JournalReader.open(dir), 3);
  expect([...states.keys()].sort()).toEqual([...SYMBOLS, 'BIG'].sort());
  for (const [symbol, state] of states) {
    const mine = input.filter((row) => row.symbol === symbol);
    expect(state.lastN).toBe(mine[mine.length - 1]!.n);
    expect(state.lastR).toBe(mine[mine.length - 1]!.r);
    expect(state.updates.map(hex)).toEqual(mine.slice(-3).map((row) => hex(row.update)));
  }
  expect(readSymbolStates(JournalReader.open(dir), 0).get('A')!.updates).toEqual([]);
});

test('append refuses what the format cannot hold, with a RangeError and no index used', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'round-4' });
  const ok = bytes(10, 1);
  const bad: [string, number, number, Uint8Array][] = [
    ['', 1, R0, ok],
    ['x'.repeat(65), 1, R0, ok],
    ['é'.repeat(33), 1, R0, ok], // 66 UTF-8 bytes
    ['A', 1, R0, new Uint8Array(0)],
    ['A', 1, R0, new Uint8Array(1024 * 1024 + 1)],
    ['A', -1, R0, ok],
    ['A', 1.5, R0, ok],
    ['A', 1, 2 ** 53, ok],
  ];
  for (const [symbol, n, r, update] of bad) {
    expect(() => writer.append(symbol, n, r, update)).toThrow(RangeError);
  }
  expect(writer.append('A', 1, R0, ok)).toBe(1);
  await writer.close();
  expect(readAll(dir)).toHaveLength(1);
});
