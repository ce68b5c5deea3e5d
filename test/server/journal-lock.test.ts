/**
 * One process per journal directory: a second server on a directory a
 * running one holds is refused with journal_locked (it would cut the first
 * one's half-written record and write over its records); after the first
 * stops, the directory can be opened again; a LOCK left by a process that
 * no longer runs is taken over.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ServerErrorCode } from '../../src/errors.js';
import { startServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-jl-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a second server on a held journal is refused; the directory is free again after a stop', async () => {
  const first = await startServer({ journal: dir });
  try {
    await expect(startServer({ journal: dir })).rejects.toMatchObject({
      code: ServerErrorCode.JournalLocked,
    });
  } finally {
    await first.stop();
  }
  const again = await startServer({ journal: dir });
  await again.stop();
});

test('a LOCK left by a process that no longer runs is taken over', async () => {
  // pid 2^22 + 1 is above Linux's pid_max default and any real pid here.
  writeFileSync(join(dir, 'LOCK'), `${2 ** 22 + 1}\n`);
  const ts = await startServer({ journal: dir });
  await ts.stop();
});
