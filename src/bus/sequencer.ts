/**
 * Exact per-symbol sequence numbers across nodes, on a log with an
 * optimistic-concurrency append (JetStream's expected-last-subject-sequence).
 *
 * Each symbol has a lane. A lane has at most one batch in flight: the batch
 * holds every tick queued for the symbol, numbered from the lane's last known
 * `n` + 1, and is appended with "the subject's last stored message is
 * `lastSeq`". The log accepts it only if no other node appended to the
 * symbol in between, so two nodes can never both store update N. A node that
 * loses the race reads the symbol's last stored batch, renumbers its ticks
 * after it and tries again. Retries of the same batch reuse its message id,
 * so the log's de-duplication makes a retry after a lost acknowledgement
 * harmless; if the id fell out of the de-duplication window, the last stored
 * message's id is compared before renumbering.
 *
 * Knowledge of other nodes' appends also arrives through `observe` (the
 * node's own consumer of the log), so most appends succeed first time.
 *
 * Not allocation-free (a body copy and a queue entry per tick, a batch per
 * append): bus mode trades that for exact numbering across processes.
 */
import type { TickScanner } from '../protocol/tick-scanner.js';
import type { Sequencer, StoreTicket } from '../pipeline/pipeline.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import { type PendingTick, batchLastN, encodeBatch } from '../pipeline/update-batch.js';
import { subjectFor } from './subjects.js';

/** What the sequencer needs from the log (JetStream in NatsBus). */
export interface SequencedLog {
  /** Appends if the subject's last stored sequence is `expectLastSeq` (0: none). */
  append(
    subject: string,
    payload: Uint8Array,
    expectLastSeq: number,
    msgId: string,
  ): Promise<{ readonly seq: number }>;
  /** The subject's last stored message, if any. */
  last(
    subject: string,
  ): Promise<
    { readonly seq: number; readonly payload: Uint8Array; readonly msgId: string } | undefined
  >;
  /** Whether an append error means "the last sequence was not the expected one". */
  isConflict(err: unknown): boolean;
}

interface QueuedTick extends PendingTick {
  readonly ticket: StoreTicket | undefined;
}

interface InFlight {
  readonly ticks: QueuedTick[];
  readonly firstN: number;
  readonly msgId: string;
  readonly payload: Uint8Array;
  readonly expectLastSeq: number;
}

class Lane {
  readonly subject: string;
  /** Sequence number of the symbol's last stored update, as far as known. */
  lastN = 0;
  /** Log sequence of the symbol's last stored batch, as far as known. */
  lastSeq = 0;
  queue: QueuedTick[] = [];
  inflight: InFlight | undefined;
  batches = 0;
  retryDelayMs = 0;

  constructor(entry: SymbolEntry) {
    this.subject = subjectFor(entry.name);
  }

  /** Moves the known position forward (never back). */
  advance(seq: number, lastN: number): void {
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.lastN = lastN;
    }
  }
}

export interface SequencerOptions {
  /** Identifies this process in message ids. */
  readonly nodeId: string;
  /** Most ticks in one append. */
  readonly maxBatch?: number;
  /** Ticks queued (not yet stored) past which `saturated` is true. */
  readonly maxPending?: number;
}

const MAX_RETRY_DELAY_MS = 2000;

export class LogSequencer implements Sequencer {
  readonly #log: SequencedLog;
  readonly #lanes = new Map<SymbolEntry, Lane>();
  readonly #nodeId: string;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  readonly #touched: Lane[] = [];
  #pending = 0;
  #idleWaiters: (() => void)[] = [];
  /** Appends refused because another node appended first. */
  conflicts = 0;
  /** Appends retried after an error (NATS unreachable, timeout). */
  retries = 0;
  /** Ticks stored through this node. */
  stored = 0;
  #closed = false;

  constructor(log: SequencedLog, options: SequencerOptions) {
    this.#log = log;
    this.#nodeId = options.nodeId;
    this.#maxBatch = options.maxBatch ?? 1024;
    this.#maxPending = options.maxPending ?? 1_000_000;
  }

  /** Ticks accepted from feeds but not yet stored. */
  get pending(): number {
    return this.#pending;
  }

  /** True when so many ticks wait to be stored that feeds should be refused. */
  get saturated(): boolean {
    return this.#pending >= this.#maxPending;
  }

  submit(
    frame: Uint8Array,
    scanner: TickScanner,
    entryOf: readonly (SymbolEntry | undefined)[],
    count: number,
    rUs: number,
    ticket: StoreTicket | undefined,
  ): void {
    const touched = this.#touched;
    for (let i = 0; i < count; i++) {
      const e = entryOf[i];
      if (e === undefined) continue;
      const lane = this.#lane(e);
      if (lane.queue.length === 0 && lane.inflight === undefined) touched.push(lane);
      lane.queue.push({
        entries: scanner.entries[i]!,
        body: frame.slice(scanner.body[i], scanner.end[i]),
        rUs,
        ticket,
      });
      this.#pending++;
    }
    for (const lane of touched) this.#send(lane);
    touched.length = 0;
  }

  /** A batch of `entry` stored at log sequence `seq` (seen by this node's consumer). */
  observe(entry: SymbolEntry, seq: number, batch: Uint8Array): void {
    this.#lane(entry).advance(seq, batchLastN(batch));
  }

  /** Resolves once every accepted tick is stored, or after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops retrying (shutdown). Queued ticks are not stored and so never acknowledged. */
  close(): void {
    this.#closed = true;
  }

  #lane(entry: SymbolEntry): Lane {
    let lane = this.#lanes.get(entry);
    if (lane === undefined) {
      lane = new Lane(entry);
      this.#lanes.set(entry, lane);
    }
    return lane;
  }

  #send(lane: Lane): void {
    if (lane.inflight !== undefined || lane.queue.length === 0 || this.#closed) return;
    const ticks =
      lane.queue.length <= this.#maxBatch ? lane.queue : lane.queue.slice(0, this.#maxBatch);
    lane.queue = ticks === lane.queue ? [] : lane.queue.slice(this.#maxBatch);
    const firstN = lane.lastN + 1;
    lane.inflight = {
      ticks,
      firstN,
      msgId: `${this.#nodeId}.${lane.subject}.${++lane.batches}`,
      payload: encodeBatch(ticks, firstN),
      expectLastSeq: lane.lastSeq,
    };
    this.#append(lane, lane.inflight);
  }

  #append(lane: Lane, f: InFlight): void {
    this.#log.append(lane.subject, f.payload, f.expectLastSeq, f.msgId).then(
      (ack) => this.#stored(lane, f, ack.seq),
      (err: unknown) => this.#failed(lane, f, err),
    );
  }

  #stored(lane: Lane, f: InFlight, seq: number): void {
    lane.advance(seq, f.firstN + f.ticks.length - 1);
    lane.inflight = undefined;
    lane.retryDelayMs = 0;
    this.#pending -= f.ticks.length;
    this.stored += f.ticks.length;
    // Tell each frame's ticket, grouping runs of ticks from the same frame.
    let run = 0;
    let ticket: StoreTicket | undefined;
    for (const t of f.ticks) {
      if (t.ticket !== ticket) {
        if (ticket !== undefined) ticket.stored(run);
        ticket = t.ticket;
        run = 0;
      }
      run++;
    }
    if (ticket !== undefined) ticket.stored(run);
    if (lane.queue.length > 0) this.#send(lane);
    else if (this.#pending === 0) this.#wakeIdle();
  }

  #failed(lane: Lane, f: InFlight, err: unknown): void {
    if (this.#closed) return;
    if (this.#log.isConflict(err)) {
      this.conflicts++;
      this.#log.last(lane.subject).then(
        (last) => {
          if (last !== undefined && last.msgId === f.msgId) {
            // Our batch was stored; only its acknowledgement was lost.
            this.#stored(lane, f, last.seq);
            return;
          }
          if (last === undefined) {
            lane.lastSeq = 0;
            lane.lastN = 0;
          } else {
            lane.lastSeq = Math.max(lane.lastSeq, last.seq);
            if (lane.lastSeq === last.seq) lane.lastN = batchLastN(last.payload);
          }
          // Renumber after what is stored: the batch's ticks go back first.
          lane.queue = f.ticks.concat(lane.queue);
          lane.inflight = undefined;
          this.#send(lane);
        },
        (e: unknown) => this.#retryLater(lane, f, e),
      );
      return;
    }
    this.#retryLater(lane, f, err);
  }

  /** The log is unreachable or slow: the same batch again, after a growing delay. */
  #retryLater(lane: Lane, f: InFlight, _err: unknown): void {
    if (this.#closed) return;
    this.retries++;
    lane.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(50, lane.retryDelayMs * 2));
    setTimeout(() => {
      if (!this.#closed) this.#append(lane, f);
    }, lane.retryDelayMs).unref();
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
