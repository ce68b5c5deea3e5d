/**
 * JournalWriter's options and its start: checking the options, and opening
 * the files it begins with (the last segment of an existing journal, or a
 * first segment for a new one). Start-up work is synchronous, on purpose:
 * it runs once, before the server listens.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isServerEpoch } from '../pipeline/epoch.js';
import { type JournalError, ioError } from './errors.js';
import { HEADER_BYTES, segmentName, writeHeader } from './format.js';
import type { JournalReader, TornTail } from './journal-reader.js';
import type { SyncMode } from './write-chain.js';
import type { SegmentEntry } from './writer-parts.js';

export interface JournalWriterOptions {
  /** Epoch stored in a new journal; an existing journal keeps its own (see `epoch`, `created`). */
  readonly epoch: string;
  /** Default 'interval'. */
  readonly sync?: SyncMode;
  /** Most time between fdatasyncs in 'interval' mode; default 100 ms. */
  readonly intervalMs?: number;
  /** A segment is closed once the next record would take it past this; default 64 MiB. */
  readonly maxSegmentBytes?: number;
  /** Closed segments are deleted, oldest first, while the journal is larger; default 1 GiB; 0 or Infinity: no limit. */
  readonly maxBytes?: number;
  /** Closed segments whose records are all older are deleted; default 24 h; 0 or Infinity: no limit. */
  readonly maxAgeMs?: number;
  /** `saturated` above this many bytes waiting to be written; default 64 MiB; `append` refuses past twice this. */
  readonly maxBufferedBytes?: number;
  /** A batch is written at once, before the turn ends, past this many bytes; default 1 MiB. */
  readonly flushBytes?: number;
  /** How often age and size limits are checked besides at each roll; default 60 s. */
  readonly retentionCheckMs?: number;
  /** Wall clock in ms (segment creation times, retention); default Date.now. */
  readonly now?: () => number;
  /** Everything up to `index` was written (handed to write() and returned). */
  readonly onWritten?: (index: number) => void;
  /** Everything up to `index` is covered by an fdatasync. */
  readonly onDurable?: (index: number) => void;
  /** A file-system error. Fatal unless it came from deleting an old segment (then `failed` stays false). */
  readonly onError?: (error: JournalError) => void;
}

export interface Start {
  readonly dir: string;
  readonly dirFd: number;
  readonly fd: number;
  readonly epoch: string;
  readonly created: boolean;
  readonly tornTail: TornTail | undefined;
  readonly segments: SegmentEntry[];
  readonly lastIndex: number;
  /** Records in the last segment. */
  readonly tailRecords: number;
}

export function checkOptions(o: JournalWriterOptions): void {
  if (!isServerEpoch(o.epoch)) {
    throw new RangeError(`journal: not an epoch: ${o.epoch.slice(0, 40)}`);
  }
  const positive = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && !(v >= min && v <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`journal: ${name} must be at least ${min}: ${v}`);
    }
  };
  positive('intervalMs', o.intervalMs, 1);
  positive('maxSegmentBytes', o.maxSegmentBytes, HEADER_BYTES + 1);
  positive('maxBufferedBytes', o.maxBufferedBytes, 1);
  positive('flushBytes', o.flushBytes, 1);
  positive('retentionCheckMs', o.retentionCheckMs, 1);
  // 0 and Infinity both mean "no limit".
  if (o.maxBytes !== undefined && !(o.maxBytes >= 0)) {
    throw new RangeError(`journal: maxBytes must be >= 0: ${o.maxBytes}`);
  }
  if (o.maxAgeMs !== undefined && !(o.maxAgeMs >= 0)) {
    throw new RangeError(`journal: maxAgeMs must be >= 0: ${o.maxAgeMs}`);
  }
  if (o.sync !== undefined && !['always', 'interval', 'never'].includes(o.sync)) {
    throw new RangeError(`journal: sync must be always, interval or never: ${String(o.sync)}`);
  }
}

/** Opens the files a writer starts with: the last segment, or a first one for a new journal. */
export function startFrom(
  dir: string,
  reader: JournalReader,
  options: JournalWriterOptions,
): Start {
  let dirFd = -1;
  try {
    dirFd = openSync(dir, 'r');
  } catch {
    // A directory cannot be opened everywhere (Windows): no directory fsync there.
  }
  const tornTail = reader.tornTail;
  try {
    const last = reader.segments[reader.segments.length - 1];
    if (last === undefined) {
      const first = reader.nextIndex;
      const createdUs = Math.round((options.now ?? Date.now)() * 1000);
      const header = Buffer.alloc(HEADER_BYTES);
      writeHeader(header, 0, options.epoch, first, createdUs);
      const path = join(dir, segmentName(first));
      const fd = openSync(path, 'wx', 0o644);
      try {
        // The header is on disk before open() returns: the epoch outlives a
        // crash even when no record was appended.
        writeSync(fd, header, 0, HEADER_BYTES, 0);
        fdatasyncSync(fd);
        if (dirFd >= 0) fsyncSync(dirFd);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      const segments: SegmentEntry[] = [
        { path, firstIndex: first, createdUs, bytes: HEADER_BYTES },
      ];
      return {
        dir,
        dirFd,
        fd,
        epoch: options.epoch,
        created: true,
        tornTail,
        segments,
        lastIndex: first - 1,
        tailRecords: 0,
      };
    }
    const fd = openSync(last.path, 'r+');
    try {
      // What the last run wrote may still be only in the page cache: after
      // this the records read back count as durable.
      fdatasyncSync(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    const segments = reader.segments.map((s) => ({
      path: s.path,
      firstIndex: s.firstIndex,
      createdUs: s.createdUs,
      bytes: s.bytes,
    }));
    return {
      dir,
      dirFd,
      fd,
      epoch: reader.epoch!,
      created: false,
      tornTail,
      segments,
      lastIndex: reader.lastIndex,
      tailRecords: reader.lastIndex - last.firstIndex + 1,
    };
  } catch (err) {
    if (dirFd >= 0) closeSync(dirFd);
    throw ioError(`open ${dir}`, err);
  }
}
