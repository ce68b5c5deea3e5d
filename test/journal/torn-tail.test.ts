import { openSync, readFileSync, truncateSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { HEADER_BYTES } from '../../src/journal/format.js';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { appendMany, fileSize, readAll, recordSize, segmentFiles, tempDir } from './helpers.js';

const SIZE = recordSize('AAPL', 40);

/** A journal of `count` records in one segment; returns the segment path. */
async function journal(dir: string, count: number): Promise<string> {
  const writer = await JournalWriter.open(dir, { epoch: 'torn-1' });
  appendMany(writer, count);
  await writer.close();
  return join(dir, segmentFiles(dir)[0]!);
}

test('a last record cut at any byte is a torn tail: reported, cut, and appending resumes', async () => {
  const seed = tempDir();
  const original = readFileSync(await journal(seed, 5));
  const lastStart = HEADER_BYTES + 4 * SIZE;
  for (let keep = 0; keep < SIZE; keep++) {
    const dir = tempDir();
    const path = join(dir, segmentFiles(seed)[0]!);
    writeFileSync(path, original.subarray(0, lastStart + keep));

    const reader = JournalReader.open(dir);
    expect(reader.lastIndex).toBe(4);
    if (keep === 0) {
      expect(reader.tornTail).toBeUndefined();
    } else {
      expect(reader.tornTail).toMatchObject({ file: path, offset: lastStart, bytes: keep });
    }
    // Reading stops at the last whole record even before the cut.
    expect(readAll(dir).map((r) => r.n)).toEqual([1, 2, 3, 4]);

    const writer = await JournalWriter.open(dir, { epoch: 'torn-other' });
    expect(writer.tornTail?.bytes ?? 0).toBe(keep);
    expect([writer.created, writer.epoch, writer.lastIndex]).toEqual([false, 'torn-1', 4]);
    expect(writer.append('AAPL', 5, 1_700_000_000_000_005, new Uint8Array(40).fill(0x85))).toBe(5);
    await writer.close();
    expect(fileSize(path)).toBe(lastStart + SIZE);
    expect(JournalReader.open(dir).tornTail).toBeUndefined();
    expect(readAll(dir).map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
  }
});

test('a last record whose bytes are damaged (CRC or length) is a torn tail too', async () => {
  const lastStart = HEADER_BYTES + 4 * SIZE;
  // A payload byte (CRC mismatch), the CRC itself, the length field (too large, then zero).
  for (const [at, value] of [
    [lastStart + 30, 0xff],
    [lastStart + 5, 0x00],
    [lastStart, 0xff],
    [lastStart + 3, 0x00],
  ] as const) {
    const dir = tempDir();
    const path = await journal(dir, 5);
    const fd = openSync(path, 'r+');
    writeSync(fd, new Uint8Array([value]), 0, 1, at);
    closeSync(fd);
    const reader = JournalReader.open(dir);
    expect(reader.tornTail).toMatchObject({ offset: lastStart, bytes: SIZE });
    expect(reader.cutTornTail()).toBe(SIZE);
    expect(fileSize(path)).toBe(lastStart);
    expect(JournalReader.open(dir).tornTail).toBeUndefined();
  }
});

test('zeros after the last record (a file extended but not written) are a torn tail', async () => {
  const dir = tempDir();
  const path = await journal(dir, 3);
  const end = fileSize(path);
  truncateSync(path, end + 4096);
  const reader = JournalReader.open(dir, { cutTornTail: true });
  expect(reader.tornTail).toMatchObject({ offset: end, bytes: 4096 });
  expect(fileSize(path)).toBe(end);
  expect(reader.lastIndex).toBe(3);
});

test('a new last segment whose header is cut short is removed and the one before continues', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'torn-2', maxSegmentBytes: 420 });
  appendMany(writer, 7); // 5 in the first segment (60 + 5 * 70 <= 420), 2 in the second
  await writer.close();
  const files = segmentFiles(dir);
  expect(files).toHaveLength(2);
  const second = join(dir, files[1]!);

  // Cut inside the header, or a file extended with zeros and never written.
  for (const keep of [0, 1, 30, HEADER_BYTES - 1, -4096]) {
    if (keep >= 0) truncateSync(second, keep);
    else writeFileSync(second, new Uint8Array(-keep));
    const reader = JournalReader.open(dir);
    expect(reader.tornTail).toMatchObject({ file: second, offset: 0, bytes: Math.abs(keep) });
    expect(reader.lastIndex).toBe(5);
    expect(reader.segments).toHaveLength(1);
    const next = await JournalWriter.open(dir, { epoch: 'torn-x', maxSegmentBytes: 420 });
    expect(segmentFiles(dir)).toEqual([files[0]]);
    expect([next.epoch, next.lastIndex]).toEqual(['torn-2', 5]);
    expect(appendMany(next, 2, 'AAPL', 6)).toEqual([6, 7]);
    await next.close();
    expect(readAll(dir).map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  }
});
