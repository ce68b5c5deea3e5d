/**
 * Opens a journal directory and reads its records.
 *
 * `JournalReader.open` lists the segments, checks every header (magic,
 * version, CRC, epoch, first index against the file name) and scans the
 * last segment whole, which finds where appending resumes and whether the
 * journal ends in a torn tail: the last segment ending in a record that is
 * cut short or fails its checks with no valid record after it (a crash
 * mid-write). A torn tail is reported (`tornTail`) and cut on request. Any
 * other damage (a bad record followed by a valid one, a bad record in a
 * segment that is not the last, a missing segment) is corruption: refused
 * with `journal_corrupt`, never skipped. Damage inside segments before the
 * last shows while `records()` reads them, which then throws; nothing is
 * half-loaded silently. Reading is synchronous (it runs at start-up).
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  readdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { requireCrc32 } from './crc32.js';
import { JournalError, JournalErrorCode, ioError } from './errors.js';
import {
  HEADER_BYTES,
  KIND_UPDATE,
  SEGMENT_SUFFIX,
  describeFault,
  parseSegmentName,
  readHeader,
} from './format.js';
import {
  CHUNK_BYTES,
  SegmentScanner,
  SymbolCache,
  chunkBuffer,
  findValidRecord,
} from './segment-scanner.js';

export interface SegmentInfo {
  readonly name: string;
  readonly path: string;
  readonly firstIndex: number;
  readonly createdUs: number;
  /** Where records start. */
  readonly headerBytes: number;
  /** File size (for the last segment: after `cutTornTail()` once it ran). */
  readonly bytes: number;
}

/** A torn tail: the bytes from `offset` to the end of the segment file `file`. */
export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  readonly reason: string;
}

export interface JournalReaderOptions {
  /** Cut a torn tail at once (as `cutTornTail()`), so appending can resume. */
  readonly cutTornTail?: boolean;
}

export interface ReadOptions {
  /** First record index to return (default 1). */
  readonly fromIndex?: number;
  /** Only records with r >= fromTimeUs. */
  readonly fromTimeUs?: number;
  /** Only records with r < toTimeUs. */
  readonly toTimeUs?: number;
  /** Only these symbols. */
  readonly symbols?: Iterable<string>;
}

/**
 * One update record. `records()` hands out the same object each time: copy
 * what you keep. `update` is a view into the read buffer, valid until the
 * next record.
 */
export interface JournalRecord {
  readonly index: number;
  readonly symbol: string;
  readonly n: number;
  readonly r: number;
  readonly update: Uint8Array;
}

class RecordView implements JournalRecord {
  index = 0;
  symbol = '';
  n = 0;
  r = 0;
  bytes: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;

  get update(): Uint8Array {
    // A plain Uint8Array, not a Buffer: its slice() copies, as callers expect.
    return new Uint8Array(
      this.bytes.buffer,
      this.bytes.byteOffset + this.start,
      this.end - this.start,
    );
  }
}

interface Segment {
  readonly name: string;
  readonly path: string;
  readonly firstIndex: number;
  readonly createdUs: number;
  readonly headerBytes: number;
  bytes: number;
}

function corrupt(message: string): JournalError {
  return new JournalError(JournalErrorCode.Corrupt, `journal: ${message}`);
}

export class JournalReader {
  readonly dir: string;
  readonly #segments: Segment[];
  readonly #epoch: string | undefined;
  /** Where the last segment's valid records end. */
  #cleanEnd: number;
  /** Index of the last record (0: none). */
  readonly #lastIndex: number;
  readonly #torn: TornTail | undefined;
  #cut = false;
  /** The torn tail is a whole file (its header was cut short). */
  readonly #tornFile: string | undefined;

  private constructor(dir: string, segments: ListedSegment[], tail: TailScan) {
    this.dir = dir;
    this.#segments = segments;
    this.#epoch = segments[0]?.epoch;
    this.#cleanEnd = tail.cleanEnd;
    this.#lastIndex = tail.lastIndex;
    this.#torn = tail.torn;
    this.#tornFile = tail.tornFile;
  }

  /** Reads the directory's segment headers and scans the last segment. */
  static open(dir: string, options: JournalReaderOptions = {}): JournalReader {
    requireCrc32();
    let reader: JournalReader;
    try {
      const { segments, tornFile } = listSegments(dir);
      reader = new JournalReader(dir, segments, scanTail(segments, tornFile));
    } catch (err) {
      throw err instanceof JournalError ? err : ioError(`open ${dir}`, err);
    }
    if (options.cutTornTail === true) reader.cutTornTail();
    return reader;
  }

  /** The numbering identity stored in the headers; undefined for an empty journal. */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  get segments(): readonly SegmentInfo[] {
    return this.#segments;
  }

  /** The torn tail found at open; still reported after `cutTornTail()`. */
  get tornTail(): TornTail | undefined {
    return this.#torn;
  }

  /** Index of the last valid record; 0 when there is none. */
  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** Index the next appended record gets. */
  get nextIndex(): number {
    return this.#lastIndex + 1;
  }

  /**
   * Truncates the last segment to its last valid record (or removes it when
   * even its header was cut short) and syncs; returns the bytes cut.
   */
  cutTornTail(): number {
    const torn = this.#torn;
    if (torn === undefined || this.#cut) return 0;
    try {
      if (this.#tornFile !== undefined) {
        unlinkSync(this.#tornFile);
        syncDir(this.dir);
      } else {
        const last = this.#segments[this.#segments.length - 1]!;
        const fd = openSync(last.path, 'r+');
        try {
          ftruncateSync(fd, torn.offset);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
        last.bytes = torn.offset;
        this.#cleanEnd = torn.offset;
      }
    } catch (err) {
      throw ioError(`cut torn tail of ${torn.file}`, err);
    }
    this.#cut = true;
    return torn.bytes;
  }

  /**
   * The update records in order, filtered. Throws `journal_corrupt` on
   * damage in a segment before the last, or on a gap between segments.
   */
  *records(options: ReadOptions = {}): Generator<JournalRecord, void, undefined> {
    const from = options.fromIndex ?? 1;
    const fromTime = options.fromTimeUs ?? -Infinity;
    const toTime = options.toTimeUs ?? Infinity;
    const symbols = options.symbols === undefined ? undefined : new Set(options.symbols);
    const segments = this.#segments;
    let i = 0;
    while (i + 1 < segments.length && segments[i + 1]!.firstIndex <= from) i++;
    let largest = 0;
    for (const seg of segments) largest = Math.max(largest, seg.bytes);
    const buf = chunkBuffer(Math.min(largest, CHUNK_BYTES));
    const view = new RecordView();
    const names = new SymbolCache();
    let index = segments[i]?.firstIndex ?? 1;
    for (; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.firstIndex !== index) {
        throw corrupt(`${seg.name} starts at record ${seg.firstIndex}, expected ${index}`);
      }
      const isLast = i === segments.length - 1;
      const end = isLast ? this.#cleanEnd : seg.bytes;
      const fd = openFile(seg.path);
      try {
        const scan = new SegmentScanner(fd, buf, seg.headerBytes, end);
        while (scan.next()) {
          const at = index++;
          if (at < from || scan.kind !== KIND_UPDATE || scan.r < fromTime || scan.r >= toTime) {
            continue;
          }
          const symbol = names.get(scan.bytes, scan.symbolStart, scan.symbolEnd);
          if (symbols !== undefined && !symbols.has(symbol)) continue;
          view.index = at;
          view.symbol = symbol;
          view.n = scan.n;
          view.r = scan.r;
          view.bytes = scan.bytes;
          view.start = scan.updateStart;
          view.end = scan.updateEnd;
          yield view;
        }
        if (scan.fault !== 0) {
          throw corrupt(`${seg.name}: ${describeFault(scan.fault)} at offset ${scan.faultOffset}`);
        }
      } finally {
        closeSync(fd);
      }
    }
  }
}

interface ListedSegment extends Segment {
  readonly epoch: string;
}

interface TailScan {
  readonly cleanEnd: number;
  readonly lastIndex: number;
  readonly torn: TornTail | undefined;
  readonly tornFile: string | undefined;
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    throw ioError(`open ${path}`, err);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Segments in order with checked headers. A last file whose header is cut
 * short (or still all zeros) is a torn tail, left out and named in
 * `tornFile`; the same in an earlier file is corruption.
 */
function listSegments(dir: string): { segments: ListedSegment[]; tornFile: string | undefined } {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith(SEGMENT_SUFFIX))
    .sort();
  const segments: ListedSegment[] = [];
  const header = Buffer.alloc(HEADER_BYTES);
  let tornFile: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const firstIndex = parseSegmentName(name);
    if (firstIndex === undefined) throw corrupt(`${name}: not a segment file name`);
    const path = join(dir, name);
    const fd = openSync(path, 'r');
    let bytes: number;
    let got = 0;
    try {
      bytes = fstatSync(fd).size;
      while (got < HEADER_BYTES) {
        const n = readSync(fd, header, got, HEADER_BYTES - got, got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    if (got < HEADER_BYTES || header.every((b) => b === 0)) {
      if (i !== names.length - 1) throw corrupt(`${name}: segment header cut short`);
      tornFile = path;
      break;
    }
    const h = readHeader(header, name, firstIndex);
    const epoch = segments[0]?.epoch ?? h.epoch;
    if (h.epoch !== epoch) {
      throw new JournalError(
        JournalErrorCode.EpochMismatch,
        `journal: ${name} has epoch ${h.epoch}, ${segments[0]!.name} has ${epoch}`,
      );
    }
    if (bytes < h.headerBytes) throw corrupt(`${name}: shorter than its header`);
    segments.push({
      name,
      path,
      firstIndex,
      createdUs: h.createdUs,
      headerBytes: h.headerBytes,
      bytes,
      epoch,
    });
  }
  return { segments, tornFile };
}

/**
 * Scans the last segment: its record count gives the last index, and its
 * first bad record, if nothing valid follows it, is the torn tail. A last
 * segment that is not the last file (the next one's header was torn) must
 * be clean: it was closed before the next was created.
 */
function scanTail(segments: readonly ListedSegment[], tornFile: string | undefined): TailScan {
  const last = segments[segments.length - 1];
  const tornWhole = (): TornTail | undefined => {
    if (tornFile === undefined) return undefined;
    const bytes = statSync(tornFile).size;
    return { file: tornFile, offset: 0, bytes, reason: 'segment header cut short' };
  };
  if (last === undefined) {
    return { cleanEnd: 0, lastIndex: 0, torn: tornWhole(), tornFile };
  }
  const fd = openSync(last.path, 'r');
  try {
    const buf = chunkBuffer(Math.min(last.bytes, CHUNK_BYTES));
    const scan = new SegmentScanner(fd, buf, last.headerBytes, last.bytes);
    let count = 0;
    while (scan.next()) count++;
    const lastIndex = last.firstIndex + count - 1;
    if (scan.fault === 0) return { cleanEnd: last.bytes, lastIndex, torn: tornWhole(), tornFile };
    const where = `${last.name}: ${describeFault(scan.fault)} at offset ${scan.faultOffset}`;
    if (tornFile !== undefined) throw corrupt(`${where}, in a segment followed by another`);
    const valid = findValidRecord(fd, buf, scan.faultOffset + 1, last.bytes);
    if (valid >= 0) throw corrupt(`${where}, followed by a valid record at offset ${valid}`);
    const torn: TornTail = {
      file: last.path,
      offset: scan.faultOffset,
      bytes: last.bytes - scan.faultOffset,
      reason: describeFault(scan.fault),
    };
    return { cleanEnd: scan.faultOffset, lastIndex, torn, tornFile };
  } finally {
    closeSync(fd);
  }
}
