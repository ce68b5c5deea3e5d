import { join } from 'node:path';
import { expect, test } from 'vitest';
import { HEADER_BYTES } from '../../src/journal/format.js';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { appendMany, fileSize, readAll, recordSize, segmentFiles, tempDir } from './helpers.js';

const name = (first: number): string => `${String(first).padStart(20, '0')}.twj`;

test('segments roll before a record would pass maxSegmentBytes; records never span two', async () => {
  const dir = tempDir();
  const size = recordSize('AAPL', 40); // 70 bytes
  const perSegment = 4; // 60 + 4 * 70 = 340 <= 360 < 410
  const writer = await JournalWriter.open(dir, { epoch: 'seg-1', maxSegmentBytes: 360 });
  appendMany(writer, 10);
  // A record larger than a whole segment gets a segment of its own.
  writer.append('AAPL', 11, 1, new Uint8Array(1000).fill(0x81));
  appendMany(writer, 2, 'AAPL', 12);
  await writer.close();

  expect(segmentFiles(dir)).toEqual([name(1), name(5), name(9), name(11), name(12)]);
  const sizes = segmentFiles(dir).map((f) => fileSize(join(dir, f)));
  expect(sizes).toEqual([
    HEADER_BYTES + perSegment * size,
    HEADER_BYTES + perSegment * size,
    HEADER_BYTES + 2 * size,
    HEADER_BYTES + recordSize('AAPL', 1000),
    HEADER_BYTES + 2 * size,
  ]);
  expect(readAll(dir).map((r) => r.n)).toEqual([...Array(13).keys()].map((i) => i + 1));
});

test('a reopened journal keeps its epoch and carries the record index on', async () => {
  const dir = tempDir();
  const first = await JournalWriter.open(dir, { epoch: 'seg-first', maxSegmentBytes: 360 });
  expect([first.created, first.epoch, first.lastIndex]).toEqual([true, 'seg-first', 0]);
  expect(appendMany(first, 6)).toEqual([1, 2, 3, 4, 5, 6]);
  await first.close();

  // The caller passes a fresh epoch; an existing journal answers with its own.
  const second = await JournalWriter.open(dir, { epoch: 'seg-second', maxSegmentBytes: 360 });
  expect([second.created, second.epoch, second.lastIndex]).toEqual([false, 'seg-first', 6]);
  expect([second.writtenIndex, second.durableIndex]).toEqual([6, 6]);
  expect(appendMany(second, 5, 'AAPL', 7)).toEqual([7, 8, 9, 10, 11]);
  await second.close();

  // Reopened with nothing appended, then once more.
  await (await JournalWriter.open(dir, { epoch: 'seg-third' })).close();
  const fourth = await JournalWriter.open(dir, { epoch: 'seg-third', maxSegmentBytes: 360 });
  expect(fourth.append('MSFT', 1, 5, new Uint8Array([0x80]))).toBe(12);
  await fourth.close();

  const reader = JournalReader.open(dir);
  expect(reader.epoch).toBe('seg-first');
  expect(reader.segments.map((s) => s.firstIndex)).toEqual([1, 5, 9]);
  expect(readAll(dir).map((r) => r.index)).toEqual([...Array(12).keys()].map((i) => i + 1));
});

test('an empty directory, or one that does not exist yet, makes a new journal', async () => {
  const dir = join(tempDir(), 'a', 'b');
  const writer = await JournalWriter.open(dir, { epoch: 'seg-new' });
  expect(writer.created).toBe(true);
  await writer.close();
  // The epoch is on disk before any record: a restart keeps it.
  const again = await JournalWriter.open(dir, { epoch: 'seg-other' });
  expect([again.created, again.epoch, again.lastIndex]).toEqual([false, 'seg-new', 0]);
  await again.close();
  expect(segmentFiles(dir)).toEqual([name(1)]);
});
