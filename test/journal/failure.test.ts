import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type JournalError, JournalErrorCode } from '../../src/journal/errors.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { breakDescriptorOf } from '../helpers/broken-fd.js';
import { appendMany, tempDir, until } from './helpers.js';

// Proof that nothing escapes: any uncaught exception or unhandled rejection
// while these tests run is collected here and fails the test.
const escaped: unknown[] = [];
const collect = (err: unknown): void => {
  escaped.push(err);
};
beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', collect);
  process.on('unhandledRejection', collect);
});
afterEach(() => {
  process.off('uncaughtException', collect);
  process.off('unhandledRejection', collect);
});

async function openWatched(dir: string) {
  const errors: JournalError[] = [];
  const writer = await JournalWriter.open(dir, {
    epoch: 'fail-1',
    sync: 'interval',
    intervalMs: 5,
    maxSegmentBytes: 350,
    maxBytes: 10_000,
    retentionCheckMs: 5,
    onError: (err) => errors.push(err),
  });
  return { writer, errors };
}

async function expectFailed(writer: JournalWriter, errors: JournalError[]): Promise<void> {
  await until(() => writer.failed);
  expect(errors.map((e) => e.code)).toEqual([JournalErrorCode.Io]);
  expect(writer.error).toBe(errors[0]);
  // Refuses appends with the same error, keeps refusing, and close() rejects with it.
  expect(() => writer.append('AAPL', 99, 1, new Uint8Array([0x80]))).toThrow(errors[0]);
  await sleep(30); // sync and retention timers would fire here
  await expect(writer.close()).rejects.toBe(errors[0]);
  expect(errors).toHaveLength(1);
  expect(escaped).toEqual([]);
}

test('a segment that cannot be created (the directory became a file) fails the writer', async () => {
  const parent = tempDir();
  const dir = join(parent, 'journal');
  const { writer, errors } = await openWatched(dir);
  appendMany(writer, 2);
  await until(() => writer.writtenIndex === 2);

  renameSync(dir, join(parent, 'moved'));
  writeFileSync(dir, 'not a directory');
  appendMany(writer, 6, 'AAPL', 3); // the 5th record rolls: ENOTDIR
  await expectFailed(writer, errors);
  expect((errors[0]!.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
});

test.skipIf(process.platform !== 'linux')(
  'a write that fails (the file descriptor broke underneath) fails the writer',
  async () => {
    const dir = tempDir();
    const { writer, errors } = await openWatched(dir);
    // Swap the writer's descriptor for a read-only one of /dev/null: its
    // next write gets EBADF from the kernel, and nothing else is written to.
    breakDescriptorOf(join(dir, '00000000000000000001.twj'));

    appendMany(writer, 3);
    await expectFailed(writer, errors);
    expect((errors[0]!.cause as NodeJS.ErrnoException).code).toBe('EBADF');
  },
);

test('append after close is refused with journal_closed', async () => {
  const writer = await JournalWriter.open(tempDir(), { epoch: 'fail-2' });
  await writer.close();
  expect(() => writer.append('AAPL', 1, 1, new Uint8Array([0x80]))).toThrow(
    expect.objectContaining({ code: JournalErrorCode.Closed }),
  );
  await writer.close(); // a second close is harmless
});
