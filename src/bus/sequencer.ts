/**
 * Exact per-symbol sequence numbers across nodes, on a log with an
 * optimistic-concurrency append (JetStream's expected-last-subject-sequence).
 *
 * Each symbol has a lane. A lane has at most one batch in flight: the batch
 * holds the ticks queued for the symbol (as many as fit `maxBatch` ticks and
 * `maxBatchBytes`, which the bus sets from NATS's max_payload), numbered from
 * the lane's last known `n` + 1, and is appended with "the subject's last
 * stored message is `lastSeq`". The log accepts it only if no other node
 * appended to the symbol in between, so two nodes can never both store
 * update N.
 *
 * When the append loses that race, the batch may still be ours: stored, with
 * its acknowledgement lost (a dropped connection) and the retry past the
 * log's de-duplication window. Thanks to the guard, a stored batch is the
 * subject's first message after `lastSeq`, so that one message's id tells;
 * the node's own consumer also recognises the batch when it reads it back
 * (`observe`). Otherwise the lane reads the subject's last stored batch,
 * renumbers its ticks after it and tries again.
 *
 * Errors the log will repeat forever (a batch JetStream refuses as too large)
 * fail the batch: its ticks are reported to their tickets as failed. Any
 * other error is retried with the same batch (same id, so de-duplication
 * makes a retry after a lost acknowledgement harmless).
 *
 * A tick that could not fit even alone is refused in `submit`, before it is
 * queued. The queue is bounded by ticks and by bytes (`saturated`).
 *
 * Not allocation-free (a body copy and a queue entry per tick, a batch per
 * append): bus mode trades that for exact numbering across processes.
 */
import type { TickScanner } from '../protocol/tick-scanner.js';
import { BUS_REFUSED_FAULT, type Sequencer, type StoreTicket } from '../pipeline/pipeline.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import {
  BATCH_HEADER,
  type PendingTick,
  UPDATE_OVERHEAD_MAX,
  batchLastN,
  checkBatch,
  encodeBatch,
} from '../pipeline/update-batch.js';
import { Fifo } from './fifo.js';
import { subjectFor } from './subjects.js';

/** Bytes of ticks waiting to be stored past which feeds are refused (--nats-max-pending). */
export const MAX_PENDING_BYTES = 256 * 1024 * 1024;

/** A message of the log, as far as the sequencer cares. */
export interface StoredBatch {
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly msgId: string;
}

/** What the sequencer needs from the log (JetStream in NatsBus). */
export interface SequencedLog {
  /** Appends if the subject's last stored sequence is `expectLastSeq` (0: none). */
  append(
    subject: string,
    payload: Uint8Array,
    expectLastSeq: number,
    msgId: string,
  ): Promise<{ readonly seq: number }>;
  /** The subject's first message stored after sequence `after`, if any. */
  next(subject: string, after: number): Promise<StoredBatch | undefined>;
  /** The subject's last stored message, if any. */
  last(subject: string): Promise<StoredBatch | undefined>;
  /** Whether an append error means "the last sequence was not the expected one". */
  isConflict(err: unknown): boolean;
  /** Whether an append error will come back however often the batch is retried. */
  isPermanent(err: unknown): boolean;
}

interface QueuedTick extends PendingTick {
  readonly ticket: StoreTicket | undefined;
}

interface InFlight {
  readonly ticks: QueuedTick[];
  readonly bytes: number;
  readonly firstN: number;
  readonly msgId: string;
  readonly payload: Uint8Array;
  readonly expectLastSeq: number;
}

class Lane {
  readonly subject: string;
  /** The symbol's UTF-8 bytes (to check a stored batch is one of ours). */
  readonly symbol: Uint8Array;
  /** Sequence number of the symbol's last stored update, as far as known. */
  lastN = 0;
  /** Log sequence of the symbol's last stored batch, as far as known. */
  lastSeq = 0;
  readonly queue = new Fifo<QueuedTick>();
  inflight: InFlight | undefined;
  batches = 0;
  retryDelayMs = 0;

  constructor(entry: SymbolEntry) {
    this.subject = subjectFor(entry.name);
    this.symbol = entry.bytes;
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
  /** Largest append in bytes, until setMaxPayload says otherwise. */
  readonly maxBatchBytes?: number;
  /** Ticks queued (not yet stored) past which `saturated` is true. */
  readonly maxPending?: number;
  /** Tick bytes queued (not yet stored) past which `saturated` is true. */
  readonly maxPendingBytes?: number;
  /** Told when a batch fails for good: how many ticks, and why. */
  readonly onFailed?: (ticks: number, reason: string) => void;
}

const MAX_RETRY_DELAY_MS = 2000;
/**
 * Bytes kept free under NATS's max_payload for what the append adds: the
 * headers (Nats-Msg-Id: node id + subject + counter, the expected sequence),
 * about 160 bytes with the longest symbol; max_payload counts them.
 */
const HEADER_ROOM = 512;
/** nats-server's default max_payload. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Bytes a queued tick costs beyond its body (object, array slot), roughly. */
const QUEUED_TICK_OVERHEAD = 64;

export class LogSequencer implements Sequencer {
  readonly #log: SequencedLog;
  readonly #lanes = new Map<SymbolEntry, Lane>();
  readonly #nodeId: string;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  readonly #maxPendingBytes: number;
  readonly #onFailed: ((ticks: number, reason: string) => void) | undefined;
  readonly #touched: Lane[] = [];
  #maxBatchBytes: number;
  #pending = 0;
  #pendingBytes = 0;
  #idleWaiters: (() => void)[] = [];
  /** Appends refused because another node appended first. */
  conflicts = 0;
  /** Appends retried after an error (NATS unreachable, timeout). */
  retries = 0;
  /** Ticks stored through this node. */
  stored = 0;
  /** Ticks accepted from feeds that failed for good (never stored). */
  failed = 0;
  /** Log sequence of the last batch this node stored (0: none since the log was new). */
  lastStoredSeq = 0;
  #refusal = '';
  #closed = false;
  /** New batches wait while held (the bus has not caught up with the log). */
  #held = false;
  #refusing = false;

  constructor(log: SequencedLog, options: SequencerOptions) {
    this.#log = log;
    this.#nodeId = options.nodeId;
    this.#maxBatch = options.maxBatch ?? 1024;
    this.#maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_PAYLOAD - HEADER_ROOM;
    this.#maxPending = options.maxPending ?? 1_000_000;
    this.#maxPendingBytes = options.maxPendingBytes ?? MAX_PENDING_BYTES;
    this.#onFailed = options.onFailed;
  }

  /** Ticks accepted from feeds but not yet stored. */
  get pending(): number {
    return this.#pending;
  }

  /** Bytes of the ticks accepted from feeds but not yet stored (bodies plus bookkeeping). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * True when feeds' frames should be refused: so many ticks or bytes wait
   * to be stored (NATS down), or the server is shutting down.
   */
  get saturated(): boolean {
    return (
      this.#refusing ||
      this.#pending >= this.#maxPending ||
      this.#pendingBytes >= this.#maxPendingBytes
    );
  }

  /** The largest batch in bytes: NATS's max_payload less room for the headers. */
  setMaxPayload(maxPayload: number): void {
    this.#maxBatchBytes = Math.max(1024, maxPayload - HEADER_ROOM);
  }

  /** Why the last refused tick was refused (see submit). */
  get refusal(): string {
    return this.#refusal;
  }

  /** The largest tick body (key/value bytes) a batch can carry alone. */
  get maxTickBody(): number {
    return this.#maxBatchBytes - BATCH_HEADER - UPDATE_OVERHEAD_MAX;
  }

  submit(
    frame: Uint8Array,
    scanner: TickScanner,
    entryOf: readonly (SymbolEntry | undefined)[],
    count: number,
    rUs: number,
    ticket: StoreTicket | undefined,
  ): number {
    const touched = this.#touched;
    const maxBody = this.maxTickBody;
    let refused = 0;
    for (let i = 0; i < count; i++) {
      const e = entryOf[i];
      if (e === undefined) continue;
      const bodyStart = scanner.body[i]!;
      const bodyEnd = scanner.end[i]!;
      if (bodyEnd - bodyStart > maxBody) {
        // It would fail every append: refused now, like an invalid tick.
        scanner.fault[i] = BUS_REFUSED_FAULT;
        refused++;
        this.#refusal =
          `a tick of ${bodyEnd - bodyStart} bytes cannot be carried by NATS ` +
          `(max_payload allows ${maxBody} per tick)`;
        continue;
      }
      const lane = this.#lane(e);
      if (lane.queue.length === 0 && lane.inflight === undefined) touched.push(lane);
      const body = frame.slice(bodyStart, bodyEnd);
      lane.queue.push({ entries: scanner.entries[i]!, body, rUs, ticket });
      this.#pending++;
      this.#pendingBytes += body.length + QUEUED_TICK_OVERHEAD;
    }
    for (const lane of touched) this.#send(lane);
    touched.length = 0;
    return refused;
  }

  /**
   * A batch of `entry` stored at log sequence `seq`, read back by this
   * node's consumer (already checked). If it is the lane's batch in flight,
   * that batch is stored, whatever became of its acknowledgement. (Compared
   * only while a batch is in flight; another batch differs in its header's
   * n or its first update's r, so the compare stops within a few dozen bytes.)
   */
  observe(entry: SymbolEntry, seq: number, batch: Uint8Array): void {
    const lane = this.#lane(entry);
    const f = lane.inflight;
    if (f !== undefined && sameBytes(f.payload, batch)) {
      this.#stored(lane, f, seq);
      return;
    }
    lane.advance(seq, batchLastN(batch));
  }

  /**
   * A message that is not a batch was stored for `entry` at `seq`: the next
   * append must expect it as the subject's last, and numbering continues
   * after the last real update.
   */
  observeForeign(entry: SymbolEntry, seq: number): void {
    const lane = this.#lanes.get(entry);
    if (lane !== undefined && seq > lane.lastSeq) lane.lastSeq = seq;
  }

  /**
   * The log was replaced (NATS lost its store and the stream was made
   * again): sequences start over, numbering does not. Every lane keeps its
   * last `n`, so the new stream continues after what this node handed out.
   */
  logReset(): void {
    for (const lane of this.#lanes.values()) lane.lastSeq = 0;
    this.lastStoredSeq = 0;
  }

  /** New batches wait (queued ticks stay queued) until `release`. */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    for (const lane of this.#lanes.values()) {
      if (lane.inflight === undefined && lane.queue.length > 0) this.#send(lane);
    }
  }

  /** Shutdown: from now on `saturated`, so feeds' new frames are refused. */
  stopAccepting(): void {
    this.#refusing = true;
  }

  /** Resolves once every accepted tick is stored (or failed), or after `timeoutMs`. */
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
    if (lane.inflight !== undefined || lane.queue.length === 0 || this.#closed || this.#held)
      return;
    // As many queued ticks as fit; at least one (submit refused any that
    // cannot fit alone; if max_payload shrank since, the append fails it).
    const limit = this.#maxBatchBytes;
    const queue = lane.queue;
    let k = 0;
    let size = BATCH_HEADER;
    let bytes = 0;
    for (let t = queue.at(0); t !== undefined && k < this.#maxBatch; t = queue.at(k)) {
      const add = t.body.length + UPDATE_OVERHEAD_MAX;
      if (k > 0 && size + add > limit) break;
      size += add;
      bytes += t.body.length + QUEUED_TICK_OVERHEAD;
      k++;
    }
    const ticks = queue.take(k);
    const firstN = lane.lastN + 1;
    const f: InFlight = {
      ticks,
      bytes,
      firstN,
      msgId: `${this.#nodeId}.${lane.subject}.${++lane.batches}`,
      payload: encodeBatch(ticks, firstN),
      expectLastSeq: lane.lastSeq,
    };
    lane.inflight = f;
    this.#append(lane, f);
  }

  #append(lane: Lane, f: InFlight): void {
    this.#log.append(lane.subject, f.payload, f.expectLastSeq, f.msgId).then(
      (ack) => this.#stored(lane, f, ack.seq),
      (err: unknown) => this.#failed(lane, f, err),
    );
  }

  #stored(lane: Lane, f: InFlight, seq: number): void {
    // Already settled (read back by the consumer, then acknowledged, or the
    // other way round).
    if (lane.inflight !== f) return;
    lane.advance(seq, f.firstN + f.ticks.length - 1);
    if (seq > this.lastStoredSeq) this.lastStoredSeq = seq;
    this.stored += f.ticks.length;
    this.#settle(lane, f, true);
  }

  /** The batch is done: stored, or failed for good. Tells each frame's ticket. */
  #settle(lane: Lane, f: InFlight, stored: boolean): void {
    lane.inflight = undefined;
    lane.retryDelayMs = 0;
    this.#pending -= f.ticks.length;
    this.#pendingBytes -= f.bytes;
    // Group runs of ticks from the same frame: one call per run.
    let run = 0;
    let ticket: StoreTicket | undefined;
    for (const t of f.ticks) {
      if (t.ticket !== ticket) {
        if (ticket !== undefined) tell(ticket, run, stored);
        ticket = t.ticket;
        run = 0;
      }
      run++;
    }
    if (ticket !== undefined) tell(ticket, run, stored);
    if (lane.queue.length > 0) this.#send(lane);
    else if (this.#pending === 0) this.#wakeIdle();
  }

  #failed(lane: Lane, f: InFlight, err: unknown): void {
    if (this.#closed || lane.inflight !== f) return;
    if (this.#log.isPermanent(err)) {
      this.failed += f.ticks.length;
      this.#onFailed?.(f.ticks.length, err instanceof Error ? err.message : String(err));
      this.#settle(lane, f, false);
      return;
    }
    if (this.#log.isConflict(err)) {
      this.conflicts++;
      void this.#resolveConflict(lane, f);
      return;
    }
    this.#retryLater(lane, f);
  }

  /**
   * The subject's last message was not the one expected. Either the batch
   * is stored after all (the first message after the expected one is ours)
   * or another node appended: renumber after the last stored batch.
   */
  async #resolveConflict(lane: Lane, f: InFlight): Promise<void> {
    let last: StoredBatch | undefined;
    try {
      const next = await this.#log.next(lane.subject, f.expectLastSeq);
      if (next !== undefined && next.msgId === f.msgId) {
        this.#stored(lane, f, next.seq);
        return;
      }
      last = await this.#log.last(lane.subject);
    } catch {
      // The log is unreachable: the same batch again later.
      this.#retryLater(lane, f);
      return;
    }
    if (this.#closed || lane.inflight !== f) return;
    if (last !== undefined && last.msgId === f.msgId) {
      this.#stored(lane, f, last.seq);
      return;
    }
    // The log's answer is the subject's position now (also when it is lower
    // than the lane's: a new stream this node has not noticed yet).
    if (last === undefined) {
      // Nothing stored for the subject (a new stream, or retention dropped
      // it all): continue after the last n this node knows, never reuse one.
      lane.lastSeq = 0;
    } else {
      lane.lastSeq = last.seq;
      // A foreign message as the subject's last carries no numbering: keep ours.
      if (checkBatch(last.payload, lane.symbol) === undefined)
        lane.lastN = batchLastN(last.payload);
    }
    // Renumber after what is stored: the batch's ticks go back first.
    lane.queue.unshiftAll(f.ticks);
    lane.inflight = undefined;
    this.#send(lane);
  }

  /** The log is unreachable or slow: the same batch again, after a growing delay. */
  #retryLater(lane: Lane, f: InFlight): void {
    if (this.#closed) return;
    this.retries++;
    lane.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(50, lane.retryDelayMs * 2));
    setTimeout(() => {
      if (!this.#closed && lane.inflight === f) this.#append(lane, f);
    }, lane.retryDelayMs).unref();
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

function tell(ticket: StoreTicket, count: number, stored: boolean): void {
  if (stored) ticket.stored(count);
  else ticket.failed(count);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
