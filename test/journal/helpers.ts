/** Shared by the journal tests: temporary directories and record builders. */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { JournalReader, type ReadOptions } from '../../src/journal/journal-reader.js';
import type { JournalWriter } from '../../src/journal/journal-writer.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-journal-'));
  dirs.push(dir);
  return dir;
}

/** `length` bytes that differ by `seed` (a MessagePack-looking first byte). */
export function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  out[0] = 0x80 | (seed & 0x0f);
  return out;
}

/**
 * Bytes as hex: tests compare updates this way because vitest's toEqual
 * walks a typed array element by element (7 s for 1 MiB here).
 */
export function hex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.length).toString('hex');
}

export interface Plain {
  readonly index: number;
  readonly symbol: string;
  readonly n: number;
  readonly r: number;
  /** The update's bytes in hex. */
  readonly update: string;
}

/** Every update record of the journal in `dir`, copied out. */
export function readAll(dir: string, options?: ReadOptions): Plain[] {
  const out: Plain[] = [];
  for (const rec of JournalReader.open(dir).records(options)) {
    out.push({
      index: rec.index,
      symbol: rec.symbol,
      n: rec.n,
      r: rec.r,
      update: hex(rec.update),
    });
  }
  return out;
}

/** Segment file names of `dir`, in order. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.twj'))
    .sort();
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/** Bytes a record takes on disk (record header, fixed payload part, symbol, update). */
export function recordSize(symbol: string, updateLength: number): number {
  return 8 + 18 + Buffer.byteLength(symbol) + updateLength;
}

/** Appends `count` records of symbol `symbol`, n from `firstN`; returns their indexes. */
export function appendMany(
  writer: JournalWriter,
  count: number,
  symbol = 'AAPL',
  firstN = 1,
  updateLength = 40,
): number[] {
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = firstN + i;
    indexes.push(writer.append(symbol, n, 1_700_000_000_000_000 + n, bytes(updateLength, n)));
  }
  return indexes;
}

/** Waits (polling, up to about 5 s) until `check()` holds. */
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('timed out waiting');
}
