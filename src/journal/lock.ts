/**
 * One process per journal directory: DIR/LOCK, created exclusively, holds
 * the owner's pid. A second server or recorder on the same directory would
 * cut the first one's half-written record as a torn tail and write over its
 * records at the same offsets, so it is refused (`journal_locked`). A LOCK
 * left by a process that no longer runs (kill -9, a crash) is stale and
 * taken over. Held until release().
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { JournalError, JournalErrorCode } from './errors.js';

const LOCK_FILE = 'LOCK';
/** LOCK files this process holds (a second server in the same process is refused too). */
const HELD = new Set<string>();

export class JournalLock {
  readonly #path: string;
  #held = true;

  private constructor(path: string) {
    this.#path = path;
  }

  /** Takes DIR/LOCK (the directory must exist); throws journal_locked while another live process holds it. */
  static acquire(dir: string): JournalLock {
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = ownerOf(path);
        const ours = owner === process.pid;
        if (HELD.has(path) || (owner !== undefined && !ours && alive(owner))) {
          throw new JournalError(
            JournalErrorCode.Locked,
            `journal: ${dir} is in use by process ${owner ?? '?'} (${path}); one server or recorder per journal`,
          );
        }
        // Stale: its process is gone (or it is unreadable, or a pid of ours not held).
        try {
          unlinkSync(path);
        } catch {
          // Taken away meanwhile: try again.
        }
        continue;
      }
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      HELD.add(path);
      return new JournalLock(path);
    }
    throw new JournalError(JournalErrorCode.Locked, `journal: could not take ${path}`);
  }

  /** Removes the LOCK (once). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    HELD.delete(this.#path);
    try {
      unlinkSync(this.#path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
