/**
 * The tick pipeline: scan → sequence → copy into a slab → publish → record.
 *
 * One call of `process` handles one feed frame. It knows nothing of sockets:
 * fan-out goes through the `Publisher` it is given (uWS in the server, a stub
 * in benchmarks and unit tests).
 *
 * Hot-path rules (pino style; figures are from FIELD-NOTES on this machine):
 * - no object, closure or `try` per tick: per-tick state lives in the
 *   scanner's typed arrays and in long-lived SymbolEntry objects;
 * - no `target.set(src.subarray(a, b))` per tick: subarray creates a view
 *   object (≈ 48 ns); tick bodies move with copyWithin inside the slab, the
 *   frame having been staged there with one native copy;
 * - each update is encoded once, into the slab, and stored in its symbol's
 *   last-value cache; the turn batcher copies it (a frame's wildcard run in
 *   one copy) and publishes one frame per topic at the end of the event-loop
 *   turn (turn-batcher.ts), so a turn's updates cost one send per subscriber;
 * - JSON is produced only when a JSON subscriber exists for that topic.
 */
import { Unpackr } from 'msgpackr';
import { MAX_REPORTED_INDICES } from '../protocol/codes.js';
import {
  FrameStatus,
  TICK_FAULT_MESSAGES,
  TickFault,
  TickScanner,
} from '../protocol/tick-scanner.js';
import { ChangeLog } from './change-log.js';
import { nowUs, perfToUs } from './clock.js';
import { randomEpoch, snapshotPrefix } from './epoch.js';
import { LatencyWindow } from './latency-window.js';
import { SlabPool } from './slab-pool.js';
import { type SymbolEntry, SymbolTable } from './symbol-table.js';
import { ALL_JSON_TOPIC, ALL_MSGPACK_TOPIC } from './topics.js';
import { TurnBatcher } from './turn-batcher.js';
import { BATCH_HEADER, batchCount, batchFirstN, readU32, updateTimeUs } from './update-batch.js';
import { writeArrayHeader, writeMapHeader, writeSeqAndTime } from './update-writer.js';

/** Where updates go. Implemented over uWS by the server. */
export interface Publisher {
  /** Sends `message`, which carries `updates` updates, to every subscriber of `topic`. */
  publish(topic: string, message: Uint8Array | string, isBinary: boolean, updates: number): void;
  /** Subscribers of `topic` now. Must be cheap: it is asked per tick. */
  subscribers(topic: string): number;
}

/** Told how many of a frame's ticks a bus has stored (for the feed's ack). */
export interface StoreTicket {
  stored(count: number): void;
  /** `count` of the frame's accepted ticks will never be stored (the bus refused them for good). */
  failed(count: number): void;
}

/**
 * Set in scanner.fault by a bus's sequencer (not the scanner) for a tick it
 * can never carry (larger than NATS's max_payload allows); reported as
 * bad_tick with the sequencer's `refusal` message.
 */
export const BUS_REFUSED_FAULT = 0xff;

/**
 * A bus that numbers ticks itself (NATS: sequenced through JetStream). When
 * the pipeline has one, `process` validates and hands the valid ticks over
 * instead of numbering and publishing them; what the bus stores comes back
 * through `deliverBatch` on every node.
 */
export interface Sequencer {
  /**
   * Takes the valid ticks of the scanned frame: tick i is valid when
   * entryOf[i] is set; its body is frame[scanner.body[i], scanner.end[i])
   * with scanner.entries[i] key/value pairs. Must copy what it keeps.
   * Returns how many of them it refused (never queued): those are marked
   * BUS_REFUSED_FAULT in scanner.fault, and `refusal` says why.
   */
  submit(
    frame: Uint8Array,
    scanner: TickScanner,
    entryOf: readonly (SymbolEntry | undefined)[],
    count: number,
    rUs: number,
    ticket: StoreTicket | undefined,
  ): number;
  /** Why the last refused tick was refused. */
  readonly refusal: string;
}

/**
 * Receives every update the embedded pipeline numbers, in numbering order
 * (the journal, src/journal). `update` is a view valid only during the call:
 * copy what is kept. Returns the record's index (a watermark to wait for).
 */
export interface UpdateRecorder {
  append(symbol: string, n: number, rUs: number, update: Uint8Array): number;
}

export interface PipelineOptions {
  readonly maxSymbols: number;
  readonly latencyWindow: number;
  readonly slabSize: number;
  /** Updates kept per symbol for recovery (0: the last value only). */
  readonly history: number;
  /** Most bytes the history of all symbols may hold; the oldest updates go first (history-budget.ts). */
  readonly historyBytes: number;
  /**
   * When updates go out: `turn` (the default) holds them until the end of
   * the event-loop turn and publishes one frame per topic (turn-batcher.ts);
   * `frame` publishes each feed frame's updates when the frame is processed
   * (embedded mode; a bus always coalesces per turn).
   */
  readonly coalesce: Coalesce;
}

export type Coalesce = 'turn' | 'frame';

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = Object.freeze({
  maxSymbols: 100_000,
  latencyWindow: 65_536,
  slabSize: 256 * 1024,
  history: 0,
  historyBytes: 256 * 1024 * 1024,
  coalesce: 'turn',
});

/** Plain counters, updated per frame and read at scrape time. */
export class PipelineCounters {
  ticksReceived = 0;
  ticksPublished = 0;
  ticksRejected = 0;
  framesReceived = 0;
  framesBad = 0;
}

// Bytes an update may add to its tick: map16 header growth (2), "n" key (2)
// with a uint64 (9), "r" key (2) with a uint64 (9).
const UPDATE_OVERHEAD = 24;
// Largest array header.
const ARRAY_HEADER = 5;
// Frames held for one turn's latency records before the arrays grow.
const HELD_FRAMES = 256;

const JSON_DECODER = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export class Pipeline {
  readonly counters = new PipelineCounters();
  readonly latency: LatencyWindow;
  readonly symbols: SymbolTable;
  /** Which symbols changed, latest last (throttled subscribers read only those). */
  readonly changes = new ChangeLog();
  readonly scanner = new TickScanner();
  readonly slabs: SlabPool;
  readonly #publisher: Publisher;
  /** The updates of one turn, one frame per topic at its end. */
  readonly #batcher: TurnBatcher;
  readonly #perFrame: boolean;
  /** Entry time and tick count of each feed frame held for the turn (latency at flush). */
  #heldEntryMs = new Float64Array(HELD_FRAMES);
  #heldTicks = new Int32Array(HELD_FRAMES);
  #heldFrames = 0;
  /** Set in bus mode (NATS): numbering and publishing happen on delivery. */
  sequencer: Sequencer | undefined;
  /** Set with --journal (embedded mode): every numbered update is appended to it. */
  recorder: UpdateRecorder | undefined;
  /** The recorder's index of the last update the last frame appended (0: none yet). */
  lastRecord = 0;
  /** Symbol entry of each valid tick of the current frame. */
  readonly #entryOf: (SymbolEntry | undefined)[];
  /** Ticks accepted / rejected in the last frame. */
  accepted = 0;
  rejected = 0;

  /** The identity of this pipeline's numbering (see epoch.ts). */
  #epoch = randomEpoch();
  /** `{op:"snapshot", epoch:…, ticks:` for the current epoch. */
  #snapshotPrefix = snapshotPrefix(this.#epoch);

  /** The identity of the numbering every `n` handed out belongs to. */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Names the numbering (a bus whose numbering outlives this process: NATS
   * derives it from the JetStream stream). Must be a server epoch (epoch.ts).
   */
  setEpoch(epoch: string): void {
    if (epoch === this.#epoch) return;
    this.#snapshotPrefix = snapshotPrefix(epoch);
    this.#epoch = epoch;
  }

  /**
   * Puts back update `n` of `symbol` as it was published before a restart
   * (the journal's rebuild, oldest first per symbol): its history and last
   * value, and its numbering, which continues after `n`. Nothing is
   * published or recorded. False when the symbol table is full.
   */
  restore(symbol: string, n: number, update: Uint8Array): boolean {
    const e = this.symbols.internName(symbol);
    if (e === undefined) return false;
    e.seq = n;
    e.store(update, 0, update.length);
    this.changes.touch(e.id);
    return true;
  }

  /**
   * Continues `symbol`'s numbering after `n` without an update to show (the
   * journal's retention deleted its records: a symbol quiet for longer than
   * that). Its history stays empty; the next update gets n + 1. False when
   * the symbol table is full.
   */
  restoreSeq(symbol: string, n: number): boolean {
    const e = this.symbols.internName(symbol);
    if (e === undefined) return false;
    if (n > e.seq) e.seq = n;
    return true;
  }

  constructor(publisher: Publisher, options: Partial<PipelineOptions> = {}) {
    const o = { ...DEFAULT_PIPELINE_OPTIONS, ...options };
    this.#publisher = publisher;
    this.#batcher = new TurnBatcher(publisher, this.#recordHeld);
    this.#perFrame = o.coalesce === 'frame';
    this.latency = new LatencyWindow(o.latencyWindow);
    this.symbols = new SymbolTable(o.maxSymbols, o.history, { historyBytes: o.historyBytes });
    this.slabs = new SlabPool(o.slabSize);
    this.#entryOf = new Array<SymbolEntry | undefined>(this.scanner.start.length).fill(undefined);
  }

  /**
   * Processes one feed frame. `entryMs` is the performance.now() reading taken
   * when the frame arrived. Returns the scanner's FrameStatus; on Ok,
   * `accepted`/`rejected` tell the outcome and `rejectedIndices()` /
   * `firstFault()` describe the invalid ticks.
   */
  process(frame: Uint8Array, entryMs: number, ticket?: StoreTicket): FrameStatus {
    const counters = this.counters;
    const scanner = this.scanner;
    counters.framesReceived++;
    this.accepted = 0;
    this.rejected = 0;
    const status = scanner.scan(frame);
    if (status !== FrameStatus.Ok) {
      counters.framesBad++;
      return status;
    }
    const count = scanner.count;
    counters.ticksReceived += count;

    // Pass 1: resolve symbols, so the number of valid ticks is known before
    // the slab is reserved and the bus (if any) takes them.
    const entryOf = this.#entryOf;
    const fault = scanner.fault;
    let valid = 0;
    for (let i = 0; i < count; i++) {
      if (fault[i] !== TickFault.None) continue;
      const e = this.symbols.intern(
        frame,
        scanner.symStart[i]!,
        scanner.symLen[i]!,
        scanner.symHash[i]!,
      );
      if (e === undefined) {
        fault[i] = TickFault.SymbolTableFull;
        scanner.invalid++;
        continue;
      }
      entryOf[i] = e;
      valid++;
    }
    this.rejected = count - valid;
    counters.ticksRejected += count - valid;
    if (valid === 0) return status;

    if (this.sequencer !== undefined) {
      const refused = this.sequencer.submit(
        frame,
        scanner,
        entryOf,
        count,
        perfToUs(entryMs),
        ticket,
      );
      for (let i = 0; i < count; i++) entryOf[i] = undefined;
      this.accepted = valid - refused;
      this.rejected += refused;
      counters.ticksRejected += refused;
      return status;
    }

    // Pass 2: write updates into one slab region (the wildcard run).
    const publisher = this.#publisher;
    const batcher = this.#batcher;
    const slabs = this.slabs;
    // The frame is staged at the end of the reservation with one native copy,
    // so each tick's body can then be moved with copyWithin (same buffer):
    // 60-byte copies measured ~38 ns with copyWithin, ~200 ns as a JS index
    // loop, ~95 ns with set(subarray) (which also allocates a view per tick).
    const frameLength = frame.length;
    slabs.reserve(frameLength * 2 + count * UPDATE_OVERHEAD + ARRAY_HEADER);
    const out = slabs.slab;
    const outView = slabs.view;
    const base = slabs.offset;
    const staged = base + frameLength + count * UPDATE_OVERHEAD + ARRAY_HEADER;
    out.set(frame, staged);
    let w = base;
    // The last update's stored view: a one-tick frame's wildcard update.
    let lastView: Uint8Array | undefined;
    const rUs = perfToUs(entryMs);
    const rHi = Math.floor(rUs / 4294967296);
    // `| 0`, not `>>> 0`: the same low 32 bits (writeU32 writes either the
    // same), but a uint32 past 2^31 is no Smi, so whenever V8 did not inline
    // writeSeqAndTime it boxed one per tick (bench:pipeline, history 100,
    // batches: 18.6 instead of 2.6 bytes/tick in about one run in four).
    const rLo = rUs | 0;
    const wantAllJson = publisher.subscribers(ALL_JSON_TOPIC) > 0;
    const recorder = this.recorder;
    for (let i = 0; i < count; i++) {
      const e = entryOf[i];
      if (e === undefined) continue;
      entryOf[i] = undefined;
      const seq = ++e.seq;
      this.changes.touch(e.id);
      const start = w;
      w = writeMapHeader(out, w, scanner.entries[i]! + 2);
      // Body: every key/value pair exactly as the feed sent it.
      const bodyStart = scanner.body[i]!;
      const bodyEnd = scanner.end[i]!;
      out.copyWithin(w, staged + bodyStart, staged + bodyEnd);
      w += bodyEnd - bodyStart;
      w = writeSeqAndTime(out, w, seq, rHi, rLo);
      const view = e.store(out, start, w, outView);
      lastView = view;
      // Recorded before it is published (at the end of the turn).
      if (recorder !== undefined) this.lastRecord = recorder.append(e.name, seq, rUs, view);
      if (publisher.subscribers(e.msgpackTopic) > 0) batcher.addNamed(e, view);
      const wantJson = publisher.subscribers(e.jsonTopic) > 0;
      if (wantJson || wantAllJson) {
        const json = updateToJson(view);
        if (wantJson) batcher.addNamedJson(e, json);
        if (wantAllJson) batcher.addAllJson(json);
      }
    }
    slabs.commit(w - base);
    if (publisher.subscribers(ALL_MSGPACK_TOPIC) > 0) {
      // A one-tick frame's update is added from its stored view, which is
      // reused (no allocation); a batch needs one view per frame. The batcher
      // copies either. (The pipeline benchmark reported 13 B/tick for
      // one-tick frames only while V8 inlined the stub publisher and elided
      // the view; with a real, native publish it is 63 B/tick without this.)
      batcher.addAllRun(valid === 1 ? lastView! : out.subarray(base, w), valid);
    }
    slabs.reset();
    this.accepted = valid;
    counters.ticksPublished += valid;

    // The frame's ticks share one latency, recorded when they are published.
    this.#hold(entryMs, valid);
    if (this.#perFrame) batcher.flush();
    return status;
  }

  /** Keeps a frame's entry time until the turn's updates are published. */
  #hold(entryMs: number, ticks: number): void {
    const k = this.#heldFrames;
    if (k === this.#heldEntryMs.length) {
      const ms = new Float64Array(k * 2);
      ms.set(this.#heldEntryMs);
      this.#heldEntryMs = ms;
      const n = new Int32Array(k * 2);
      n.set(this.#heldTicks);
      this.#heldTicks = n;
    }
    this.#heldEntryMs[k] = entryMs;
    this.#heldTicks[k] = ticks;
    this.#heldFrames = k + 1;
    this.#batcher.hold();
  }

  /** The batcher published the turn: each held frame's ticks leave the pipeline now. */
  readonly #recordHeld = (): void => {
    const latency = this.latency;
    for (let k = 0; k < this.#heldFrames; k++)
      latency.recordFrame(this.#heldEntryMs[k]!, this.#heldTicks[k]!);
    this.#heldFrames = 0;
  };

  /**
   * Fans out a batch a bus delivered (see update-batch.ts; the bus has
   * checked it with checkBatch): consecutive, already numbered updates of
   * one symbol. Updates at or below the symbol's current sequence number
   * (redeliveries) are skipped. Each update is stored in the symbol's
   * history and handed to the turn batcher, which publishes one frame per
   * topic at the end of the turn. Latency is recorded from each update's `r` (the
   * receiving node's stamp) to now. Returns the number of updates delivered.
   * A batch that does not follow the symbol's last n (a gap, or numbering
   * that went back) is the bus's to handle before it calls this (see
   * NatsBus#deliver): the subscribers must not see the jump.
   */
  deliverBatch(entry: SymbolEntry, batch: Uint8Array): number {
    const publisher = this.#publisher;
    const count = batchCount(batch);
    const firstN = batchFirstN(batch);
    const wantAll = publisher.subscribers(ALL_MSGPACK_TOPIC) > 0;
    const wantAllJson = publisher.subscribers(ALL_JSON_TOPIC) > 0;
    const batcher = this.#batcher;
    const now = nowUs();
    let delivered = 0;
    // One DataView per batch for the word copies into the history.
    const batchView = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    let r = BATCH_HEADER;
    for (let k = 0; k < count; k++) {
      const len = readU32(batch, r);
      r += 4;
      const n = firstN + k;
      if (n > entry.seq) {
        entry.seq = n;
        const view = entry.history.store(n, batch, r, r + len, batchView);
        if (publisher.subscribers(entry.msgpackTopic) > 0) batcher.addNamed(entry, view);
        const wantJson = publisher.subscribers(entry.jsonTopic) > 0;
        if (wantJson || wantAllJson) {
          const json = updateToJson(view);
          if (wantJson) batcher.addNamedJson(entry, json);
          if (wantAllJson) batcher.addAllJson(json);
        }
        if (wantAll) batcher.addAll(view);
        this.latency.record(now - updateTimeUs(batch, r + len));
        delivered++;
      }
      r += len;
    }
    if (delivered > 0) this.changes.touch(entry.id);
    this.counters.ticksPublished += delivered;
    return delivered;
  }

  /**
   * Publishes the updates held for the end of this turn (turn-batcher.ts).
   * Call it before anything that sends a snapshot, a replay or a ledger's
   * latest values, or moves a socket between topics; snapshot and replay
   * call it themselves.
   */
  flush(): void {
    this.#batcher.flush();
  }

  /** Indices of the last frame's invalid ticks (at most 16). */
  rejectedIndices(): number[] {
    const out: number[] = [];
    const fault = this.scanner.fault;
    for (let i = 0; i < this.scanner.count && out.length < MAX_REPORTED_INDICES; i++) {
      if (fault[i] !== TickFault.None) out.push(i);
    }
    return out;
  }

  /** Message for the first invalid tick of the last frame. */
  firstFault(): string {
    const fault = this.scanner.fault;
    for (let i = 0; i < this.scanner.count; i++) {
      const f = fault[i]!;
      if (f !== TickFault.None) {
        const why = f === BUS_REFUSED_FAULT ? this.sequencer?.refusal : TICK_FAULT_MESSAGES[f];
        return `tick ${i}: ${why}`;
      }
    }
    return '';
  }

  /**
   * The snapshot reply for `names` (or every known symbol when `all`), in
   * the connection's format. MessagePack snapshots are assembled from the
   * cached update bytes without decoding them.
   */
  snapshot(names: readonly string[], all: boolean, json: boolean): Uint8Array | string {
    this.#batcher.flush();
    const entries: SymbolEntry[] = [];
    if (all) {
      for (const e of this.symbols.entries) if (e.seq > 0) entries.push(e);
    } else {
      for (const name of names) {
        const e = this.symbols.get(name);
        if (e !== undefined && e.seq > 0) entries.push(e);
      }
    }
    if (json) {
      return `{"op":"snapshot","epoch":"${this.#epoch}","ticks":[${entries.map((e) => updateToJson(e.last)).join(',')}]}`;
    }
    const prefix = this.#snapshotPrefix;
    let size = prefix.length + ARRAY_HEADER;
    for (const e of entries) size += e.last.length;
    const out = new Uint8Array(size);
    out.set(prefix, 0);
    let w = writeArrayHeader(out, prefix.length, entries.length);
    for (const e of entries) {
      out.set(e.last, w);
      w += e.last.length;
    }
    return out.subarray(0, w);
  }

  /**
   * Recovery for a subscribe with `since`: the updates each requested symbol
   * had after the sequence number the client last saw (a symbol missing from
   * `since` counts as 0: none seen). Returns one frame of the missed updates,
   * symbol by symbol in order (null when nothing was missed), or undefined
   * when some gap is no longer in history, the client is ahead of the server
   * (it restarted), or the replay would exceed `maxBytes`; the caller then
   * sends the snapshot and answers recovered:false.
   */
  replay(
    names: readonly string[],
    all: boolean,
    since: Readonly<Record<string, number>>,
    json: boolean,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Uint8Array | string | null | undefined {
    this.#batcher.flush();
    const targets = new Set<SymbolEntry>();
    if (all) for (const e of this.symbols.entries) if (e.seq > 0) targets.add(e);
    for (const name of names) {
      const e = this.symbols.get(name);
      if (e !== undefined && e.seq > 0) targets.add(e);
      else if ((since[name] ?? 0) > 0) return undefined; // the server never had it (restart)
    }
    const updates: Uint8Array[] = [];
    let bytes = 0;
    for (const e of targets) {
      const seen = since[e.name] ?? 0;
      if (seen > e.seq) return undefined;
      if (seen === e.seq) continue;
      if (seen + 1 < e.history.first) return undefined;
      for (let n = seen + 1; n <= e.seq; n++) {
        const u = e.history.get(n);
        // Never skip an update silently (evicted by the history budget: recovered:false).
        if (u === undefined) return undefined;
        bytes += u.length;
        if (bytes > maxBytes) return undefined;
        updates.push(u);
      }
    }
    if (updates.length === 0) return null;
    if (json) {
      const parts = updates.map(updateToJson);
      return parts.length === 1 ? parts[0]! : `[${parts.join(',')}]`;
    }
    if (updates.length === 1) return updates[0]!.slice();
    const out = new Uint8Array(bytes + ARRAY_HEADER);
    let w = writeArrayHeader(out, 0, updates.length);
    for (const u of updates) {
      out.set(u, w);
      w += u.length;
    }
    return out.subarray(0, w);
  }
}

/** Decodes one update and renders it as JSON (only for JSON subscribers). */
export function updateToJson(update: Uint8Array): string {
  return JSON.stringify(JSON_DECODER.unpack(update));
}
