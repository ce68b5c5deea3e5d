/**
 * The write side of JournalWriter: turns the batches appends fill into
 * file-system calls, one in flight at a time (a write, an fdatasync, or a
 * step of a segment roll), all completing in one callback (`#done`), so the
 * order on disk is the append order and no closure is made per call.
 *
 * Two batches alternate: appends fill `active` while `#inflight` is written.
 * A batch may hold roll points (a new segment starts there, its header
 * already in the bytes): the chain writes up to the point, then syncs (unless
 * sync is 'never') and closes the old file, creates the new one, syncs the
 * directory (unless 'never'), and goes on.
 *
 * Sync modes: 'always' syncs after every batch write (appends made during
 * the sync go into the next batch: group commit); 'interval' at most every
 * intervalMs; 'never' only on close.
 */
import { close, fdatasync, fsync, open, write } from 'node:fs';
import { join } from 'node:path';
import { type JournalError, ioError } from './errors.js';
import { segmentName } from './format.js';
import { PendingBatch, type Retention } from './writer-parts.js';

export type SyncMode = 'always' | 'interval' | 'never';

export interface ChainEvents {
  readonly onWritten: ((index: number) => void) | undefined;
  readonly onDurable: ((index: number) => void) | undefined;
  /** The chain failed; called once. */
  readonly onFailed: (error: JournalError) => void;
  /** Closed (after the final sync) or, when closing, failed. */
  readonly onClosed: () => void;
}

// What the one operation in flight is (#step).
const WRITE = 0;
const SYNC = 1;
const ROLL_SYNC = 2;
const ROLL_CLOSE = 3;
const ROLL_OPEN = 4;
const ROLL_DIR_SYNC = 5;
const FINAL_SYNC = 6;
const FINAL_CLOSE = 7;
const STEP_NAMES = [
  'write',
  'fdatasync',
  'fdatasync',
  'close',
  'create',
  'fsync dir',
  'fdatasync',
  'close',
];

function noop(): void {}

export class WriteChain {
  /** The batch appends go into. */
  active = new PendingBatch();

  readonly #dir: string;
  readonly #dirFd: number;
  readonly #sync: SyncMode;
  readonly #intervalMs: number;
  readonly #retention: Retention;
  readonly #events: ChainEvents;

  #inflight = new PendingBatch();
  /** Bytes of #inflight written so far; its next roll point. */
  #inflightPos = 0;
  #rollCursor = 0;
  #fd: number;
  #step = WRITE;
  #busy = false;
  #writtenIndex: number;
  #durableIndex: number;
  #syncTarget = 0;
  #syncWanted = false;
  #lastSyncAt = 0;
  #syncTimer: NodeJS.Timeout | undefined;
  /** First index of the oldest segment closed without a sync ('never'); Infinity if none. */
  #unsyncedFrom = Infinity;
  #closing = false;
  /** The files are closed: nothing more to do. */
  #released = false;
  #error: JournalError | undefined;

  constructor(
    dir: string,
    dirFd: number,
    fd: number,
    sync: SyncMode,
    intervalMs: number,
    lastIndex: number,
    retention: Retention,
    events: ChainEvents,
  ) {
    this.#dir = dir;
    this.#dirFd = dirFd;
    this.#fd = fd;
    this.#sync = sync;
    this.#intervalMs = intervalMs;
    this.#writtenIndex = lastIndex;
    this.#durableIndex = lastIndex;
    this.#retention = retention;
    this.#events = events;
  }

  get writtenIndex(): number {
    return this.#writtenIndex;
  }

  get durableIndex(): number {
    return this.#durableIndex;
  }

  /** Whether an operation is in flight. */
  get busy(): boolean {
    return this.#busy;
  }

  get error(): JournalError | undefined {
    return this.#error;
  }

  /** Bytes appended and not yet written. */
  get bufferedBytes(): number {
    return this.active.length + this.#inflight.length - this.#inflightPos;
  }

  /** Writes what is buffered, syncs, closes the files, then calls onClosed. */
  close(): void {
    this.#closing = true;
    clearTimeout(this.#syncTimer);
    if (this.#error !== undefined) this.#release();
    else this.pump();
  }

  /** Starts the next operation, if one is due and none is in flight. */
  pump(): void {
    if (this.#busy || this.#error !== undefined || this.#released) return;
    if (this.#inflightPos < this.#inflight.length) {
      this.#writeNext();
    } else if (this.#syncWanted && this.#writtenIndex > this.#durableIndex) {
      this.#syncTarget = this.#writtenIndex;
      this.#op(SYNC);
    } else if (this.active.length > 0) {
      const written = this.#inflight;
      this.#inflight = this.active;
      this.active = written;
      this.#inflightPos = 0;
      this.#rollCursor = 0;
      this.#writeNext();
    } else if (this.#closing) {
      this.#syncTarget = this.#writtenIndex;
      this.#op(this.#writtenIndex > this.#durableIndex ? FINAL_SYNC : FINAL_CLOSE);
    }
  }

  /** Writes #inflight up to its next roll point, or starts the roll when there. */
  #writeNext(): void {
    const batch = this.#inflight;
    let end = batch.length;
    if (this.#rollCursor < batch.rollAt.length) {
      const at = batch.rollAt[this.#rollCursor]!;
      if (this.#inflightPos === at) {
        if (this.#sync !== 'never') return this.#op(ROLL_SYNC);
        // Closed unsynced: no later sync covers it, so durableIndex stops before it.
        this.#unsyncedFrom = Math.min(this.#unsyncedFrom, this.#retention.tail.firstIndex);
        return this.#op(ROLL_CLOSE);
      }
      end = at;
    }
    this.#busy = true;
    this.#step = WRITE;
    const at = this.#retention.tail.bytes;
    write(this.#fd, batch.buf, this.#inflightPos, end - this.#inflightPos, at, this.#done);
  }

  /** Issues the file-system call of `step`; they all report to #done. */
  #op(step: number): void {
    this.#busy = true;
    this.#step = step;
    switch (step) {
      case SYNC:
      case ROLL_SYNC:
      case FINAL_SYNC:
        fdatasync(this.#fd, this.#done);
        break;
      case ROLL_CLOSE:
      case FINAL_CLOSE: {
        // Given up before the call: after a failed close the number may be reused.
        const fd = this.#fd;
        this.#fd = -1;
        close(fd, this.#done);
        break;
      }
      case ROLL_OPEN:
        open(this.#rollPath(), 'wx', 0o644, this.#done);
        break;
      case ROLL_DIR_SYNC:
        fsync(this.#dirFd, this.#done);
        break;
    }
  }

  #rollPath(): string {
    return join(this.#dir, segmentName(this.#inflight.rollFirst[this.#rollCursor]!));
  }

  /** The one completion callback of every operation. */
  readonly #done = (err: NodeJS.ErrnoException | null, value?: number): void => {
    this.#busy = false;
    if (err !== null) return this.#fail(STEP_NAMES[this.#step]!, err);
    let written = 0;
    let durable = 0;
    switch (this.#step) {
      case WRITE: {
        const n = value ?? 0;
        if (n <= 0) return this.#fail('write', new Error('wrote 0 bytes'));
        this.#inflightPos += n;
        this.#retention.tail.bytes += n;
        if (this.#inflightPos === this.#inflight.length) written = this.#batchWritten();
        break;
      }
      case SYNC:
        durable = this.#synced();
        break;
      case ROLL_SYNC:
        return this.#op(ROLL_CLOSE);
      case ROLL_CLOSE:
        return this.#op(ROLL_OPEN);
      case ROLL_OPEN: {
        this.#fd = value ?? -1;
        const batch = this.#inflight;
        const at = this.#rollCursor;
        this.#retention.add(this.#rollPath(), batch.rollFirst[at]!, batch.rollCreated[at]!);
        if (this.#sync !== 'never' && this.#dirFd >= 0) return this.#op(ROLL_DIR_SYNC);
        this.#rolled();
        break;
      }
      case ROLL_DIR_SYNC:
        this.#rolled();
        break;
      case FINAL_SYNC:
        durable = this.#synced();
        this.#op(FINAL_CLOSE);
        break;
      case FINAL_CLOSE:
        this.#release();
        return;
    }
    // The next operation first, then the caller's callbacks: one that throws
    // cannot stall the chain.
    this.pump();
    if (written > 0) this.#events.onWritten?.(written);
    if (durable > 0) this.#events.onDurable?.(durable);
  };

  #batchWritten(): number {
    const index = this.#inflight.lastIndex;
    this.#inflight.reset();
    this.#inflightPos = 0;
    this.#writtenIndex = index;
    if (this.#sync === 'always') {
      this.#syncWanted = true;
    } else if (this.#sync === 'interval' && this.#syncTimer === undefined && !this.#closing) {
      const wait = this.#lastSyncAt + this.#intervalMs - performance.now();
      if (wait <= 0) this.#syncWanted = true;
      else this.#syncTimer = setTimeout(this.#onSyncTimer, wait).unref();
    }
    return index;
  }

  readonly #onSyncTimer = (): void => {
    this.#syncTimer = undefined;
    this.#syncWanted = true;
    this.pump();
  };

  /** The sync of #syncTarget is done: the new durable index, or 0 if it did not move. */
  #synced(): number {
    this.#syncWanted = false;
    this.#lastSyncAt = performance.now();
    const target = Math.min(this.#syncTarget, this.#unsyncedFrom - 1);
    if (target <= this.#durableIndex) return 0;
    this.#durableIndex = target;
    return this.#durableIndex;
  }

  #rolled(): void {
    this.#rollCursor++;
    this.#retention.check();
  }

  #fail(what: string, cause: unknown): void {
    this.#error = ioError(what, cause);
    clearTimeout(this.#syncTimer);
    // Settle a pending close before the caller's callback, which might throw.
    if (this.#closing) this.#release();
    this.#events.onFailed(this.#error);
  }

  /** Closes what is still open (errors ignored: the chain is done) and reports the close. */
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#syncTimer);
    if (this.#fd >= 0) close(this.#fd, noop);
    if (this.#dirFd >= 0) close(this.#dirFd, noop);
    this.#fd = -1;
    this.#events.onClosed();
  }
}
