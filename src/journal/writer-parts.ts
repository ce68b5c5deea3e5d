/**
 * The two helpers of JournalWriter: the buffer appends fill (PendingBatch)
 * and the list of segments on disk with the retention rule (Retention).
 */
import { unlink } from 'node:fs/promises';
import { type JournalError, ioError } from './errors.js';

/** First capacity of a batch buffer; it doubles as the load needs, up to a limit. */
const INITIAL_BYTES = 256 * 1024;

/**
 * Records waiting to be written, and where in them a new segment starts.
 * Two of these alternate: appends fill one while the other is written. The
 * buffer grows and is kept, so a steady load allocates nothing.
 */
export class PendingBatch {
  buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  length = 0;
  /** Index of the last record in the batch. */
  lastIndex = 0;
  /** Offsets where a new segment starts (its header is there), its first index and creation time. */
  readonly rollAt: number[] = [];
  readonly rollFirst: number[] = [];
  readonly rollCreated: number[] = [];

  /** Makes room for `more` bytes, growing geometrically but to at most `limit` (unless more is needed). */
  reserve(more: number, limit: number): void {
    const need = this.length + more;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, Math.min(limit, this.buf.length * 2)));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  addRoll(at: number, firstIndex: number, createdUs: number): void {
    this.rollAt.push(at);
    this.rollFirst.push(firstIndex);
    this.rollCreated.push(createdUs);
  }

  reset(): void {
    this.length = 0;
    this.rollAt.length = 0;
    this.rollFirst.length = 0;
    this.rollCreated.length = 0;
  }
}

export interface SegmentEntry {
  readonly path: string;
  readonly firstIndex: number;
  readonly createdUs: number;
  /** Bytes on disk. */
  bytes: number;
}

/**
 * The segments on disk, oldest first; the last one is being written and is
 * never deleted. A closed segment goes, oldest first, while the journal is
 * larger than maxBytes, or once the segment after it was created more than
 * maxAgeMs ago: that segment was created after the closed one's last record
 * was appended, so all of the closed one's records are older than that.
 */
export class Retention {
  readonly #segments: SegmentEntry[];
  /** 0: no limit. */
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #report: (error: JournalError) => void;
  #deleting: Promise<void> = Promise.resolve();

  constructor(
    segments: SegmentEntry[],
    maxBytes: number,
    maxAgeMs: number,
    now: () => number,
    report: (error: JournalError) => void,
  ) {
    this.#segments = segments;
    this.#maxBytes = Number.isFinite(maxBytes) ? maxBytes : 0;
    this.#maxAgeMs = Number.isFinite(maxAgeMs) ? maxAgeMs : 0;
    this.#now = now;
    this.#report = report;
  }

  /** Whether any limit is set (else no timer is needed). */
  get bounded(): boolean {
    return this.#maxBytes > 0 || this.#maxAgeMs > 0;
  }

  /** The segment being written. */
  get tail(): SegmentEntry {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** A new segment was created: it is the one written from now on. */
  add(path: string, firstIndex: number, createdUs: number): void {
    this.#segments.push({ path, firstIndex, createdUs, bytes: 0 });
  }

  /** Deletes the closed segments the limits no longer allow (asynchronously). */
  check(): void {
    if (!this.bounded) return;
    const segments = this.#segments;
    let total = 0;
    for (const s of segments) total += s.bytes;
    const oldestUs = this.#maxAgeMs > 0 ? (this.#now() - this.#maxAgeMs) * 1000 : -Infinity;
    let drop = 0;
    while (drop < segments.length - 1) {
      const expired = segments[drop + 1]!.createdUs <= oldestUs;
      const over = this.#maxBytes > 0 && total > this.#maxBytes;
      if (!expired && !over) break;
      total -= segments[drop]!.bytes;
      drop++;
    }
    if (drop === 0) return;
    const doomed = segments.splice(0, drop);
    const deletions = doomed.map((s) => unlink(s.path).catch(this.#failed(s.path)));
    this.#deleting = Promise.all([this.#deleting, ...deletions]).then(() => undefined);
  }

  /** Resolves when the deletions started so far are done (they never reject). */
  settled(): Promise<void> {
    return this.#deleting;
  }

  #failed(path: string): (err: unknown) => void {
    return (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.#report(ioError(`delete ${path}`, err));
    };
  }
}
