/**
 * The journal (--journal DIR) in a running server: on start, the pipeline is
 * rebuilt from the journal (last values, history, each symbol's `n`) and
 * every update it numbers from then on is appended (Pipeline.recorder); feed
 * acks wait until their frame's updates are written (`interval`, `never`) or
 * synced (`always`); on a clean stop the journal is closed and marked clean.
 *
 * The numbering identity (epoch) is the journal's own epoch, plus a
 * generation that grows by one after every stop that was not clean. Why:
 * updates are appended when they are numbered and handed to the file system
 * shortly after (a batch per event-loop turn), but published at the end of
 * the same turn, so a crash can lose updates that subscribers already saw.
 * After such a crash the numbering continues from what the journal holds,
 * under a new epoch, so a `since` from before it is answered
 * `recovered: false` with the snapshot instead of a replay of numbers that
 * may now name other updates (docs/journal.md, "After a crash").
 *
 * The generation and the clean mark live in DIR/state.json (written to a
 * temporary file, synced, renamed, directory synced).
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Fifo } from '../bus/fifo.js';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { JournalReader, type TornTail } from '../journal/journal-reader.js';
import { JournalWriter, type SyncMode } from '../journal/journal-writer.js';
import { JournalLock } from '../journal/lock.js';
import { readSymbolStates } from '../journal/rebuild.js';
import { MAX_SERVER_EPOCH_LENGTH } from '../pipeline/epoch.js';
import type { Pipeline, StoreTicket } from '../pipeline/pipeline.js';

const STATE_FILE = 'state.json';
/** The writer's backlog bound: `saturated` past it, appends throw past twice it. */
const MAX_BUFFERED = 64 * 1024 * 1024;
/** Most bytes a record adds to its tick (n, r, the record's header, the symbol). */
const RECORD_GROWTH = 96;

/**
 * DIR/state.json: the generation of the numbering and, after a clean stop,
 * where the journal ended and every symbol's last `n` then (retention may
 * have deleted all records of a quiet symbol; its numbering must still
 * continue under the same epoch).
 */
interface JournalState {
  readonly generation: number;
  readonly cleanLastIndex: number | null;
  readonly lastN?: Readonly<Record<string, number>>;
}

/** Writer sizes below what the options allow, for tests that need retention to act on a few records. */
export interface JournalTuning {
  readonly maxSegmentBytes?: number;
  readonly maxBytes?: number;
}

/** A feed frame's ack waiting for the journal. */
interface Waiter {
  readonly index: number;
  readonly ticket: StoreTicket;
  readonly count: number;
}

/** What start-up found, for the log. */
export interface JournalStartReport {
  readonly dir: string;
  readonly created: boolean;
  readonly symbols: number;
  readonly updates: number;
  readonly records: number;
  readonly clean: boolean;
  readonly epoch: string;
  /** The torn tail cut at start (the record being written when the last run stopped), if any. */
  readonly torn: TornTail | undefined;
}

export class JournalLink {
  readonly writer: JournalWriter;
  readonly report: JournalStartReport;
  readonly #dir: string;
  readonly #generation: number;
  readonly #waiters = new Fifo<Waiter>();
  readonly #lock: JournalLock;
  readonly #pipeline: Pipeline;
  /** The watermark acks wait for: durable with `always`, written otherwise. */
  #reached = 0;

  private constructor(
    writer: JournalWriter,
    dir: string,
    generation: number,
    report: JournalStartReport,
    lock: JournalLock,
    pipeline: Pipeline,
  ) {
    this.#lock = lock;
    this.#pipeline = pipeline;
    this.writer = writer;
    this.#dir = dir;
    this.#generation = generation;
    this.report = report;
    this.#reached = writer.lastIndex;
  }

  /**
   * Opens (or creates) the journal in config.journal, rebuilds `pipeline`
   * from it and attaches itself as the pipeline's recorder. Rejects with a
   * journal_* error when the journal cannot be read: nothing is loaded then.
   */
  static async open(
    config: Config,
    pipeline: Pipeline,
    tuning: JournalTuning = {},
  ): Promise<JournalLink> {
    const dir = config.journal!;
    mkdirSync(dir, { recursive: true });
    // One process per directory, before anything is read or cut.
    const lock = JournalLock.acquire(dir);
    try {
      return await JournalLink.#open(config, pipeline, dir, lock, tuning);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  static async #open(
    config: Config,
    pipeline: Pipeline,
    dir: string,
    lock: JournalLock,
    tuning: JournalTuning,
  ): Promise<JournalLink> {
    // Read everything first: a damaged journal loads nothing (rebuild.ts).
    const reader = JournalReader.open(dir, { cutTornTail: true });
    const torn = reader.tornTail;
    const states = readSymbolStates(reader, Math.max(1, config.history));
    const existing = reader.epoch !== undefined;
    const previous = readState(dir);
    const clean =
      !existing || (previous !== undefined && previous.cleanLastIndex === reader.lastIndex);
    // No readable state.json beside an existing journal: a generation never
    // used before (seconds since 1970 exceed any count of restarts).
    const generation =
      previous === undefined
        ? existing
          ? Math.floor(Date.now() / 1000)
          : 0
        : previous.generation + (clean ? 0 : 1);
    const sync: SyncMode = config.journalSync;
    let link: JournalLink | undefined = undefined;
    const advance = (i: number): void => {
      if (link !== undefined) link.#advance(i);
    };
    const writer = await JournalWriter.open(dir, {
      epoch: pipeline.epoch,
      sync,
      maxBytes: config.journalMaxBytes,
      maxAgeMs: config.journalMaxAgeS * 1000,
      maxBufferedBytes: MAX_BUFFERED,
      ...tuning,
      onWritten: sync === 'always' ? undefined : advance,
      onDurable: sync === 'always' ? advance : undefined,
      onError: (err) => {
        process.stderr.write(`tickwire: journal: ${err.message} [${err.code}]\n`);
        if (link !== undefined && link.writer.failed) link.#failWaiters();
      },
    });
    let updates = 0;
    const full = (): ConfigError =>
      new ConfigError(
        `--journal ${dir} holds more symbols than --max-symbols ${config.maxSymbols}`,
      );
    // After a clean stop: the numbering of symbols whose records retention
    // deleted continues too (their last values are gone with them).
    if (clean && previous?.lastN !== undefined) {
      for (const [symbol, n] of Object.entries(previous.lastN)) {
        if (!pipeline.restoreSeq(symbol, n)) {
          await writer.close();
          throw full();
        }
      }
    }
    for (const st of states.values()) {
      for (let i = 0; i < st.updates.length; i++) {
        // Each with its own n: a journal with gaps (a recording) starts the history afresh there.
        if (!pipeline.restore(st.symbol, st.ns[i]!, st.updates[i]!)) {
          await writer.close();
          throw full();
        }
        updates++;
      }
    }
    pipeline.setEpoch(epochOf(writer.epoch, generation));
    // Not clean until stop() says so: a crash from here on is one.
    writeState(dir, { generation, cleanLastIndex: null });
    const report: JournalStartReport = {
      dir,
      created: writer.created,
      symbols: states.size,
      updates,
      records: reader.lastIndex,
      clean,
      epoch: pipeline.epoch,
      torn,
    };
    link = new JournalLink(writer, dir, generation, report, lock, pipeline);
    pipeline.recorder = writer;
    return link;
  }

  /** Feeds' frames are refused while this holds (writes too far behind, or failed). */
  get refusing(): boolean {
    return this.writer.saturated || this.writer.failed;
  }

  /**
   * Whether a feed frame of `bytes` with at most `ticks` ticks must be
   * refused: `refusing`, or its records could take the backlog past the
   * writer's hard bound (append would throw in the middle of the frame).
   */
  refuses(bytes: number, ticks: number): boolean {
    return (
      this.refusing || this.writer.bufferedBytes + bytes + ticks * RECORD_GROWTH > 2 * MAX_BUFFERED
    );
  }

  /** Why frames are refused (see `refusing`). */
  get refusal(): string {
    return this.writer.failed
      ? `the journal failed (${this.writer.error?.code ?? 'journal_io'}); this node takes no ticks`
      : 'the journal is behind';
  }

  /**
   * `ticket.stored(count)` once the journal holds record `index` (written,
   * or synced with `always`): the frame's ack goes out then.
   */
  whenStored(index: number, ticket: StoreTicket, count: number): void {
    if (index <= this.#reached) ticket.stored(count);
    else this.#waiters.push({ index, ticket, count });
  }

  /**
   * The writer failed: the frames still waiting are acked with their ticks
   * rejected (acks never vanish). They may have reached subscribers, but
   * they are not in the journal.
   */
  #failWaiters(): void {
    const q = this.#waiters;
    for (let w = q.shift(); w !== undefined; w = q.shift()) w.ticket.failed(w.count);
  }

  #advance(index: number): void {
    this.#reached = index;
    const q = this.#waiters;
    for (let w = q.at(0); w !== undefined && w.index <= index; w = q.at(0)) {
      q.shift();
      w.ticket.stored(w.count);
    }
  }

  /** Writes and syncs what is buffered, closes the files and marks the journal clean. */
  async close(): Promise<void> {
    try {
      await this.writer.close();
      const lastN: Record<string, number> = Object.create(null) as Record<string, number>;
      for (const e of this.#pipeline.symbols.entries) if (e.seq > 0) lastN[e.name] = e.seq;
      writeState(this.#dir, {
        generation: this.#generation,
        cleanLastIndex: this.writer.lastIndex,
        lastN,
      });
    } finally {
      this.#lock.release();
    }
  }
}

/**
 * The numbering identity for a journal epoch and a generation: the epoch
 * itself, then `EPOCH-G`, cut to the 31 characters an epoch may have
 * (epoch.ts) by shortening the journal's part.
 */
export function epochOf(journalEpoch: string, generation: number): string {
  if (generation === 0) return journalEpoch.slice(0, MAX_SERVER_EPOCH_LENGTH);
  const suffix = `-${generation}`;
  return `${journalEpoch.slice(0, MAX_SERVER_EPOCH_LENGTH - suffix.length)}${suffix}`;
}

function readState(dir: string): JournalState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<JournalState>;
    const generation = v.generation;
    const last = v.cleanLastIndex;
    if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0)
      return undefined;
    const lastN: Record<string, number> = Object.create(null) as Record<string, number>;
    if (typeof v.lastN === 'object' && v.lastN !== null) {
      for (const [symbol, n] of Object.entries(v.lastN)) {
        if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) lastN[symbol] = n;
      }
    }
    return {
      generation,
      cleanLastIndex: typeof last === 'number' && Number.isSafeInteger(last) ? last : null,
      lastN,
    };
  } catch {
    // Unreadable (a crash while it was replaced cannot cause this: rename is atomic).
    return undefined;
  }
}

function writeState(dir: string, state: JournalState): void {
  const tmp = join(dir, `${STATE_FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(state)}\n`);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, STATE_FILE));
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
