import {
  closeSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { JournalErrorCode } from '../../src/journal/errors.js';
import { HEADER_BYTES, writeHeader } from '../../src/journal/format.js';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { readSymbolStates } from '../../src/journal/rebuild.js';
import { appendMany, fileSize, recordSize, segmentFiles, tempDir } from './helpers.js';

const SIZE = recordSize('AAPL', 40);

/** Three segments of 4 records each (60 + 4 * 70 <= 350). */
async function journal(): Promise<{ dir: string; paths: string[] }> {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'bad-1', maxSegmentBytes: 350 });
  appendMany(writer, 12);
  await writer.close();
  return { dir, paths: segmentFiles(dir).map((f) => join(dir, f)) };
}

function poke(path: string, at: number, value: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, new Uint8Array([value]), 0, 1, at);
  closeSync(fd);
}

/** The code of what `fn` throws (sync or async). */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'no error';
}

const readEverything = (dir: string) => () => readSymbolStates(JournalReader.open(dir), 1);

test('a bad record followed by valid ones in the last segment is refused, never cut', async () => {
  for (const [offsetInRecord, value] of [
    [30, 0xff], // payload byte: CRC mismatch
    [0, 0x7f], // length field out of range
    [3, 0x00], // length field shorter than the record
  ] as const) {
    const { dir, paths } = await journal();
    const last = paths[2]!;
    const size = fileSize(last);
    poke(last, HEADER_BYTES + SIZE + offsetInRecord, value);
    expect(await codeOf(() => JournalReader.open(dir))).toBe(JournalErrorCode.Corrupt);
    expect(await codeOf(() => JournalWriter.open(dir, { epoch: 'bad-2' }))).toBe(
      JournalErrorCode.Corrupt,
    );
    expect(fileSize(last)).toBe(size);
  }
});

test('damage in a segment before the last fails the read that reaches it', async () => {
  const { dir, paths } = await journal();
  poke(paths[1]!, HEADER_BYTES + 2 * SIZE + 20, 0xee);
  // Opening checks headers and the last segment only; the damage shows when read.
  const reader = JournalReader.open(dir);
  expect(await codeOf(() => [...reader.records()])).toBe(JournalErrorCode.Corrupt);
  expect(await codeOf(readEverything(dir))).toBe(JournalErrorCode.Corrupt);
  // Reading from past the damaged segment is fine.
  expect([...reader.records({ fromIndex: 9 })].length).toBe(4);
});

test('a segment before the last that ends in a partial record is corruption, not a torn tail', async () => {
  const { dir, paths } = await journal();
  truncateSync(paths[0]!, fileSize(paths[0]!) - 10);
  expect(await codeOf(readEverything(dir))).toBe(JournalErrorCode.Corrupt);
});

test('a missing segment in the middle is a gap in the record index: refused', async () => {
  const { dir, paths } = await journal();
  rmSync(paths[1]!);
  expect(await codeOf(readEverything(dir))).toBe(JournalErrorCode.Corrupt);
});

test('wrong magic, unknown version and a damaged header are refused with their codes', async () => {
  const cases: [number, number, string][] = [
    [0, 0x00, JournalErrorCode.Corrupt], // magic
    [3, 0x32, JournalErrorCode.Corrupt], // "TWJ2" is not the magic either
    [5, 0x02, JournalErrorCode.UnsupportedVersion],
    [4, 0x01, JournalErrorCode.UnsupportedVersion], // version 257
    [12, 0x21, JournalErrorCode.Corrupt], // an epoch byte: header CRC
    [50, 0x01, JournalErrorCode.Corrupt], // creation time: header CRC
  ];
  for (const [at, value, code] of cases) {
    for (const which of [0, 2]) {
      const { dir, paths } = await journal();
      poke(paths[which]!, at, value);
      expect(await codeOf(() => JournalReader.open(dir))).toBe(code);
      expect(await codeOf(() => JournalWriter.open(dir, { epoch: 'bad-3' }))).toBe(code);
    }
  }
});

test('segments naming different epochs are refused', async () => {
  const { dir, paths } = await journal();
  const bytes = readFileSync(paths[1]!);
  writeHeader(bytes, 0, 'someone-else', 5, 1);
  writeFileSync(paths[1]!, bytes);
  expect(await codeOf(() => JournalReader.open(dir))).toBe(JournalErrorCode.EpochMismatch);
});

test('a header whose first index disagrees with its file name, or a stray .twj name, is refused', async () => {
  const { dir, paths } = await journal();
  const bytes = readFileSync(paths[1]!);
  writeHeader(bytes, 0, 'bad-1', 6, 1);
  writeFileSync(paths[1]!, bytes);
  expect(await codeOf(() => JournalReader.open(dir))).toBe(JournalErrorCode.Corrupt);

  const other = await journal();
  writeFileSync(join(other.dir, 'notes.twj'), 'hello');
  expect(await codeOf(() => JournalReader.open(other.dir))).toBe(JournalErrorCode.Corrupt);
});
