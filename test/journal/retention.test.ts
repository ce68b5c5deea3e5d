import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { appendMany, fileSize, readAll, segmentFiles, tempDir, until } from './helpers.js';

const name = (first: number): string => `${String(first).padStart(20, '0')}.twj`;
const total = (dir: string): number =>
  segmentFiles(dir).reduce((sum, f) => sum + fileSize(join(dir, f)), 0);

// Records of 70 bytes, 4 to a segment of at most 350 bytes: segments of 340 bytes.

test('past maxBytes the oldest closed segments go, and what stays reads from its first index', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, {
    epoch: 'keep-1',
    maxSegmentBytes: 350,
    maxBytes: 1000,
  });
  appendMany(writer, 30);
  await writer.close();
  await writer.checkRetention();
  // 8 segments were made (1, 5, ..., 29); the newest that fit 1000 bytes stay.
  expect(segmentFiles(dir)).toEqual([name(21), name(25), name(29)]);
  expect(total(dir)).toBeLessThanOrEqual(1000);
  const reader = JournalReader.open(dir);
  expect(reader.lastIndex).toBe(30);
  expect(readAll(dir).map((r) => r.index)).toEqual([...Array(10).keys()].map((i) => 21 + i));
});

test('the segment being written is never deleted, however small maxBytes is', async () => {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, {
    epoch: 'keep-2',
    maxSegmentBytes: 350,
    maxBytes: 1,
  });
  appendMany(writer, 10);
  await until(() => writer.writtenIndex === 10);
  appendMany(writer, 5, 'AAPL', 11);
  await writer.close();
  await writer.checkRetention();
  expect(segmentFiles(dir)).toEqual([name(13)]);
  expect(readAll(dir).map((r) => r.n)).toEqual([13, 14, 15]);
});

test('a closed segment goes once the segment after it is older than maxAgeMs', async () => {
  const dir = tempDir();
  let now = 1_000_000; // ms, the writer's clock
  const writer = await JournalWriter.open(dir, {
    epoch: 'keep-3',
    maxSegmentBytes: 350,
    maxAgeMs: 1500,
    now: () => now,
  });
  appendMany(writer, 4); // segment 1, created at 1,000,000
  now = 1_002_000;
  appendMany(writer, 4, 'AAPL', 5); // segment 5, created at 1,002,000
  now = 1_003_000;
  appendMany(writer, 4, 'AAPL', 9); // segment 9, created at 1,003,000
  now = 1_004_000;
  appendMany(writer, 1, 'AAPL', 13); // segment 13, created at 1,004,000
  await until(() => writer.writtenIndex === 13);
  // Cut-off 1,002,500: segment 1 (next created 1,002,000) is all older; segment 5 is not.
  await writer.checkRetention();
  expect(segmentFiles(dir)).toEqual([name(5), name(9), name(13)]);
  now = 1_010_000;
  await writer.checkRetention();
  expect(segmentFiles(dir)).toEqual([name(13)]);
  await writer.close();
});

test('the retention timer applies the limits without a roll', async () => {
  const dir = tempDir();
  let now = 5_000_000;
  const writer = await JournalWriter.open(dir, {
    epoch: 'keep-4',
    maxSegmentBytes: 350,
    maxAgeMs: 60_000,
    retentionCheckMs: 10,
    now: () => now,
  });
  appendMany(writer, 9);
  await until(() => writer.writtenIndex === 9);
  await sleep(30); // a few timer checks, nothing old enough yet
  expect(segmentFiles(dir)).toHaveLength(3);
  now += 120_000;
  await until(() => segmentFiles(dir).length === 1);
  expect(segmentFiles(dir)).toEqual([name(9)]);
  await writer.close();
});

test('0 and Infinity mean no limit', async () => {
  for (const limit of [0, Infinity]) {
    const dir = tempDir();
    let now = 1;
    const writer = await JournalWriter.open(dir, {
      epoch: 'keep-5',
      maxSegmentBytes: 350,
      maxBytes: limit,
      maxAgeMs: limit,
      now: () => now,
    });
    appendMany(writer, 20);
    now = 1e12;
    await writer.checkRetention();
    await writer.close();
    expect(segmentFiles(dir)).toHaveLength(5);
  }
});
