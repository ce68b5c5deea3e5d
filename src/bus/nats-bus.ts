/**
 * The NATS bus: ticks validated by this node are numbered through JetStream
 * (see sequencer.ts) and every node, this one included, fans out what the
 * stream delivers to its own subscribers. The stream (see stream.ts) is also
 * the history: on start-up a node reads it from the beginning, which fills
 * each symbol's last value and recovery ring.
 *
 * Ready (/readyz 200) means: connected, the stream is there and is the one
 * this node has been reading, and the node has read everything the stream
 * held when it (re)connected. Until then the sequencer holds new batches
 * (ticks queue), so a node never numbers a symbol before it knows the
 * symbol's last `n`.
 *
 * On every reconnect, and when the watchdog finds it missing or replaced,
 * the stream is ensured again and compared with the one the node knew (its
 * creation time, its last sequence). A different stream (NATS lost its
 * store) resets the node's stream position and the lanes' sequences, but not
 * the symbols' last `n`: numbering continues after what the node handed out.
 *
 * Every message read is checked (update-batch.ts `checkBatch`) before it is
 * delivered: anything else on `tickwire.tick.*` is skipped and counted, and
 * nothing escapes the consume callback. A batch that does not follow a
 * symbol's last update (a gap: the stream dropped what this node had not
 * read yet; or a rewind: a new stream) is counted and the symbol's
 * subscribers are resynced (`onResync`) before it is delivered.
 */
import { randomBytes } from 'node:crypto';
import {
  type ConsumerMessages,
  DeliverPolicy,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  NatsError,
  type StreamInfo,
  connect,
} from 'nats';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import { batchFirstN, checkBatch } from '../pipeline/update-batch.js';
import { isValidSymbol } from '../protocol/control.js';
import { JetStreamAppender } from './jetstream-appender.js';
import { jetStreamLog } from './jetstream-log.js';
import { DEFAULT_MAX_PAYLOAD, LogSequencer, type SequencedLog } from './sequencer.js';
import { JS_STREAM_NOT_FOUND, STREAM_NAME, ensureStream, streamEpoch } from './stream.js';
import { ALL_SUBJECTS, subjectFor, symbolOf } from './subjects.js';

const APPEND_TIMEOUT_MS = 2000;
/** How often the stream is checked; also how long it may be ahead of this node with nothing arriving before the consumer is recreated. */
const WATCHDOG_MS = 2000;
const CONSUMER_CREATE_TIMEOUT_MS = 5000;
/** One line per kind of trouble per this many ms (with a count of the ones not logged). */
const WARN_EVERY_MS = 10_000;
const ENCODER = new TextEncoder();

export interface NatsBusOptions {
  /** Comma-separated server URLs. */
  readonly servers: string;
  /** --history: updates kept per symbol in memory (the stream keeps far more batches). */
  readonly history: number;
  /** Stream replicas when the stream is created (a NATS cluster keeps that many copies). */
  readonly replicas?: number;
  /** Shown in NATS connection names. */
  readonly name?: string;
  /** Batches the stream keeps per symbol (default stream.ts RETAIN_PER_SUBJECT). */
  readonly retainPerSubject?: number;
  /** The stream's disk bound (default stream.ts STREAM_MAX_BYTES). */
  readonly maxBytes?: number;
  /** Bytes of ticks waiting to be stored past which feeds are refused (default 256 MiB). */
  readonly maxPendingBytes?: number;
  /**
   * Told when this node's numbering of `entry` jumps or goes back (see
   * Pipeline.deliverBatch): the symbol's subscribers must resubscribe.
   */
  readonly onResync?: (entry: SymbolEntry) => void;
}

/** Counters for /stats and /metrics. */
export interface BusStats {
  readonly kind: 'nats';
  readonly connected: boolean;
  /** The stream is there and is the one this node reads. */
  readonly stream_ready: boolean;
  readonly caught_up: boolean;
  /** Stream sequence this node has read up to. */
  readonly position: number;
  readonly pending: number;
  readonly pending_bytes: number;
  readonly stored: number;
  /** Ticks accepted from feeds that JetStream refused for good (acked as rejected). */
  readonly failed: number;
  readonly conflicts: number;
  readonly retries: number;
  readonly reconnects: number;
  readonly consumer_restarts: number;
  /** Times the stream turned out to be a new one (NATS lost its store). */
  readonly stream_resets: number;
  /** Batches that skipped numbers this node never read (subscribers resynced). */
  readonly gaps: number;
  /** Updates those gaps skipped. */
  readonly missed: number;
  /** Batches whose numbering went back (a new stream; subscribers resynced). */
  readonly rewinds: number;
  /** Stream messages that were not tickwire batches (skipped). */
  readonly bad_messages: number;
}

export class NatsBus {
  readonly #pipeline: Pipeline;
  readonly #options: NatsBusOptions;
  readonly sequencer: LogSequencer;
  /** The sequencer's log; the watchdog reads the stream through it too. */
  readonly #log: SequencedLog;
  /** Subject → entry, for subjects that delivered a valid batch. */
  readonly #entries = new Map<string, SymbolEntry>();
  readonly #warned = new Map<string, { at: number; skipped: number }>();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #appender: JetStreamAppender | undefined;
  #jsm: JetStreamManager | undefined;
  #messages: ConsumerMessages | undefined;
  #connected = false;
  #streamReady = false;
  /** Creation time of the stream this node reads (undefined: none yet). */
  #streamCreated: string | undefined;
  /** Stream sequence to reach before the node counts as caught up. */
  #catchUpTo = 0;
  #lastSeen = 0;
  #caughtUp = false;
  #reconnects = 0;
  #closing = false;
  #starting: Promise<void> | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #checking = false;
  #syncing = false;
  #syncAgain = false;
  #consumerGen = 0;
  #consumerRestarts = 0;
  #restarting = false;
  #lastMessageAt = 0;
  #streamResets = 0;
  #gaps = 0;
  #missed = 0;
  #rewinds = 0;
  #badMessages = 0;

  constructor(pipeline: Pipeline, options: NatsBusOptions) {
    this.#pipeline = pipeline;
    this.#options = options;
    const nodeId = randomBytes(6).toString('base64url');
    this.#log = jetStreamLog(
      () => this.#appender,
      () => this.#jsm,
    );
    this.sequencer = new LogSequencer(this.#log, {
      nodeId,
      ...(options.maxPendingBytes === undefined
        ? {}
        : { maxPendingBytes: options.maxPendingBytes }),
      onFailed: (ticks, reason) => this.#onFailed(ticks, reason),
    });
    // Nothing is numbered before the node has read the stream.
    this.sequencer.hold();
    pipeline.sequencer = this.sequencer;
  }

  /** Connected to NATS, the stream there, and caught up with it. */
  get ready(): boolean {
    return this.#connected && this.#streamReady && this.#caughtUp;
  }

  stats(): BusStats {
    const s = this.sequencer;
    return {
      kind: 'nats',
      connected: this.#connected,
      stream_ready: this.#streamReady,
      caught_up: this.#caughtUp,
      position: this.#lastSeen,
      pending: s.pending,
      pending_bytes: s.pendingBytes,
      stored: s.stored,
      failed: s.failed,
      conflicts: s.conflicts,
      retries: s.retries,
      reconnects: this.#reconnects,
      consumer_restarts: this.#consumerRestarts,
      stream_resets: this.#streamResets,
      gaps: this.#gaps,
      missed: this.#missed,
      rewinds: this.#rewinds,
      bad_messages: this.#badMessages,
    };
  }

  /**
   * Connects (waiting for NATS to appear), makes sure the stream is there
   * and starts consuming it. Resolves once consuming; readiness follows when
   * caught up. On failure everything made so far is closed again, and the
   * caller may call start() again.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch(async (err: unknown) => {
      this.#starting = undefined;
      await this.#teardown();
      throw err;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const nc = await connect({
      servers: this.#options.servers.split(',').map((s) => s.trim()),
      name: this.#options.name ?? 'tickwire',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      pingInterval: 2000,
      maxPingOut: 2,
    });
    if (this.#closing) {
      await nc.close();
      return;
    }
    this.#nc = nc;
    this.#connected = true;
    void this.#watchStatus(nc);
    await this.#syncStream();
    await this.#consume();
    this.#watchdog = setInterval(() => void this.#check(), WATCHDOG_MS);
    this.#watchdog.unref();
  }

  /** Closes what start() made: after a failed start, and on close(). */
  async #teardown(): Promise<void> {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    this.#stopConsumer();
    this.#appender?.close();
    this.#appender = undefined;
    this.#jsm = undefined;
    this.#js = undefined;
    const nc = this.#nc;
    this.#nc = undefined;
    this.#connected = false;
    this.#streamReady = false;
    if (nc !== undefined && !nc.isClosed()) await nc.close().catch(() => undefined);
  }

  /**
   * Ensures the stream and checks it is the one this node has read; not
   * ready meanwhile. A new stream (created at another time, or shorter than
   * what this node read) resets the stream position and the lanes'
   * sequences; the next consumer starts from its beginning.
   */
  async #syncStream(): Promise<void> {
    const nc = this.#nc;
    if (nc === undefined) throw new Error('not connected');
    this.#streamReady = false;
    this.#setCaughtUp(false);
    this.#jsm ??= await nc.jetstreamManager();
    this.#js ??= nc.jetstream();
    const info: StreamInfo = await ensureStream(this.#jsm, {
      history: this.#options.history,
      replicas: this.#options.replicas ?? 1,
      ...(this.#options.retainPerSubject === undefined
        ? {}
        : { retainPerSubject: this.#options.retainPerSubject }),
      ...(this.#options.maxBytes === undefined ? {} : { maxBytes: this.#options.maxBytes }),
    });
    this.sequencer.setMaxPayload(nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
    if (
      this.#streamCreated !== undefined &&
      (info.created !== this.#streamCreated || info.state.last_seq < this.#lastSeen)
    ) {
      // Not the stream this node read: nothing of the old one is coming.
      this.#stopConsumer();
      this.#streamResets++;
      this.#lastSeen = 0;
      this.sequencer.logReset();
      process.stderr.write(
        `tickwire: the NATS stream ${STREAM_NAME} is a new one (NATS lost its store?): ` +
          'reading it from the start; numbering continues after the last n this node knows\n',
      );
    }
    this.#streamCreated = info.created;
    // The numbering is the stream's: same epoch on every node and restart.
    this.#pipeline.setEpoch(streamEpoch(info));
    this.#catchUpTo = info.state.last_seq;
    this.#appender ??= new JetStreamAppender(nc, APPEND_TIMEOUT_MS);
    this.#streamReady = true;
    if (info.state.messages === 0 || this.#lastSeen >= this.#catchUpTo) this.#setCaughtUp(true);
  }

  /** Caught up or not; the sequencer numbers new batches only while caught up. */
  #setCaughtUp(caughtUp: boolean): void {
    this.#caughtUp = caughtUp;
    if (caughtUp) this.sequencer.release();
    else this.sequencer.hold();
  }

  /** Ensures the stream again and recreates the consumer (after a reconnect, a missing or new stream). */
  async #resync(why: string): Promise<void> {
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncing = true;
    try {
      do {
        this.#syncAgain = false;
        await this.#syncStream();
        await this.#restartConsumer(why);
      } while (this.#syncAgain && !this.#closing);
    } catch (err) {
      // Not ready; the watchdog tries again.
      this.#warn('sync', `NATS stream unavailable (${why}): ${errorText(err)}; retrying`);
    } finally {
      this.#syncing = false;
    }
  }

  /**
   * (Re)creates the ordered consumer, starting after the last message seen.
   * nats.js 2.x's ordered consumer did not always resume by itself: after a
   * reconnect to another server of a cluster (the one holding the ephemeral
   * consumer was killed) it went silent with no status event, on this
   * machine. So the bus recreates it itself on every reconnect and whenever
   * the watchdog sees the stream ahead of us with nothing arriving. The
   * latest call wins: an older one stops what it made.
   */
  async #consume(): Promise<void> {
    const js = this.#js;
    if (js === undefined || this.#closing) return;
    this.#stopConsumer();
    const gen = this.#consumerGen;
    const start = this.#lastSeen + 1;
    const consumer = await js.consumers.get(
      STREAM_NAME,
      start > 1
        ? {
            filterSubjects: ALL_SUBJECTS,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: start,
          }
        : { filterSubjects: ALL_SUBJECTS },
    );
    if (gen !== this.#consumerGen || this.#closing) return;
    this.#lastMessageAt = Date.now();
    const messages = await consumer.consume({
      max_messages: 1024,
      expires: 4000,
      idle_heartbeat: 1000,
      callback: (m: JsMsg) => {
        if (gen === this.#consumerGen) this.#onMessage(m);
      },
    });
    if (gen !== this.#consumerGen || this.#closing) {
      messages.stop();
      return;
    }
    this.#messages = messages;
  }

  /** Once per WATCHDOG_MS: the stream still there and the same, the consumer not stalled. */
  async #check(): Promise<void> {
    if (!this.#connected || this.#closing || this.#syncing || this.#restarting || this.#checking)
      return;
    const jsm = this.#jsm;
    if (!this.#streamReady || jsm === undefined) {
      void this.#resync('stream unavailable');
      return;
    }
    this.#checking = true;
    try {
      const info = await jsm.streams.info(STREAM_NAME);
      if (info.created !== this.#streamCreated) {
        void this.#resync('stream replaced');
      } else if (
        Date.now() - this.#lastMessageAt >= WATCHDOG_MS &&
        info.state.last_seq > this.#lastSeen
      ) {
        // Ahead of us with nothing arriving: a stalled consumer, unless what
        // is left after lastSeen was deleted (the last sequence stays), in
        // which case there is nothing to wait for.
        const next = await this.#log.next(ALL_SUBJECTS, this.#lastSeen);
        if (next !== undefined) void this.#restartConsumer('stalled');
        else if (!this.#caughtUp && this.#streamReady) {
          this.#catchUpTo = this.#lastSeen;
          this.#setCaughtUp(true);
        }
      }
    } catch (err) {
      if (err instanceof NatsError && err.api_error?.err_code === JS_STREAM_NOT_FOUND) {
        this.#streamReady = false;
        void this.#resync('stream deleted');
      } else {
        // NATS busy or unreachable: the next round tries again.
        this.#warn('check', `NATS stream check failed: ${errorText(err)}`);
      }
    } finally {
      this.#checking = false;
    }
  }

  async #restartConsumer(why: string): Promise<void> {
    if (this.#closing) return;
    this.#restarting = true;
    this.#consumerRestarts++;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Creating the consumer can wait for a long time (nats.js retries by
      // itself while a cluster elects new leaders): give up after a while, so
      // the watchdog can try again with a fresh consumer.
      await Promise.race([
        this.#consume(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.#consumerGen++;
            reject(new Error('timed out creating the consumer'));
          }, CONSUMER_CREATE_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.#warn('consumer', `NATS consumer restart (${why}) failed: ${errorText(err)}`);
    } finally {
      clearTimeout(timer);
      this.#restarting = false;
    }
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) {
        this.#connected = false;
      } else if (s.type === Events.Reconnect) {
        this.#connected = true;
        this.#reconnects++;
        // Possibly another server, or the same one without its store.
        void this.#resync('reconnect');
      }
    }
  }

  #onMessage(m: JsMsg): void {
    this.#lastMessageAt = Date.now();
    const seq = m.seq;
    // A recreated consumer may repeat what an old one delivered.
    if (seq <= this.#lastSeen) return;
    this.#lastSeen = seq;
    try {
      this.#deliver(m.subject, seq, m.data);
    } catch (err) {
      // Never out of the consume callback (it would stop the consumer): the
      // message is skipped like a foreign one.
      this.#bad(m.subject, seq, `delivery failed: ${errorText(err)}`);
    }
    if (!this.#caughtUp && this.#streamReady && seq >= this.#catchUpTo) this.#setCaughtUp(true);
  }

  /** Checks one stream message and hands it to the pipeline and the sequencer. */
  #deliver(subject: string, seq: number, data: Uint8Array): void {
    const entry = this.#entries.get(subject);
    if (entry !== undefined) {
      const fault = checkBatch(data, entry.bytes);
      if (fault !== undefined) {
        this.#bad(subject, seq, fault);
        this.sequencer.observeForeign(entry, seq);
        return;
      }
      // A batch that does not follow the symbol's last n: a gap (the stream
      // dropped updates before this node read them), or numbering that went
      // back (the consumer never repeats a message, so that is a new stream,
      // numbered on by a node that knew less). Subscribers must not see the
      // jump: they are resynced first, and the symbol's numbering and
      // history restart at the batch. A symbol this node has no update of
      // yet (start-up) takes any first n.
      const firstN = batchFirstN(data);
      if (entry.seq > 0 && firstN !== entry.seq + 1) {
        this.#onDiscontinuity(entry, entry.seq, firstN);
        entry.seq = firstN - 1;
      }
      this.#pipeline.deliverBatch(entry, data);
      this.sequencer.observe(entry, seq, data);
      return;
    }
    // A subject not delivered before: it must be exactly the one subjectFor
    // gives a valid symbol, and no entry is made for a batch that fails.
    const name = symbolOf(subject);
    if (name === undefined || !isValidSymbol(name) || subjectFor(name) !== subject) {
      this.#bad(subject, seq, 'not a symbol subject');
      return;
    }
    const known = this.#pipeline.symbols.get(name);
    const fault = checkBatch(data, known?.bytes ?? ENCODER.encode(name));
    if (fault !== undefined) {
      this.#bad(subject, seq, fault);
      if (known !== undefined) this.sequencer.observeForeign(known, seq);
      return;
    }
    const created = known ?? this.#pipeline.symbols.internName(name);
    if (created === undefined) {
      this.#bad(subject, seq, 'the symbol table is full');
      return;
    }
    this.#entries.set(subject, created);
    this.#deliver(subject, seq, data);
  }

  /** Stops the stream consumer; a new generation makes its late callbacks no-ops. */
  #stopConsumer(): void {
    this.#consumerGen++;
    this.#messages?.stop();
    this.#messages = undefined;
  }

  #bad(subject: string, seq: number, why: string): void {
    this.#badMessages++;
    this.#warn('bad', `skipped stream message ${seq} on ${subject}: ${why}`);
  }

  #onDiscontinuity(entry: SymbolEntry, lastN: number, firstN: number): void {
    let what: string;
    if (firstN > lastN + 1) {
      this.#gaps++;
      this.#missed += firstN - lastN - 1;
      what = `updates ${lastN + 1}-${firstN - 1} were dropped from the stream before this node read them`;
    } else {
      this.#rewinds++;
      what = `its numbering went back from ${lastN} to ${firstN} (a new stream)`;
    }
    this.#warn('resync', `${entry.name}: ${what}; resyncing its subscribers`);
    this.#options.onResync?.(entry);
  }

  #onFailed(ticks: number, reason: string): void {
    this.#pipeline.counters.ticksRejected += ticks;
    this.#warn('failed', `JetStream refused ${ticks} ticks for good: ${reason}`);
  }

  /** One line per `kind` per WARN_EVERY_MS, saying how many were not logged. */
  #warn(kind: string, text: string): void {
    const now = Date.now();
    const w = this.#warned.get(kind);
    if (w !== undefined && now - w.at < WARN_EVERY_MS) {
      w.skipped++;
      return;
    }
    const more = w !== undefined && w.skipped > 0 ? ` (and ${w.skipped} more since)` : '';
    this.#warned.set(kind, { at: now, skipped: 0 });
    process.stderr.write(`tickwire: ${text}${more}\n`);
  }

  /** Shutdown, first step: feeds' new frames are refused from now on (see LogSequencer.saturated). */
  stopAccepting(): void {
    this.sequencer.stopAccepting();
  }

  /**
   * Shutdown: waits (up to `timeoutMs`) until every tick accepted from feeds
   * is stored and delivered back. The stream sequence to wait for is the
   * last one this node's appends were stored at (known from the PubAcks), so
   * nothing here waits on a request to NATS, which may be gone.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.sequencer.whenIdle(timeoutMs);
    const target = this.sequencer.lastStoredSeq;
    while (this.#lastSeen < target && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.sequencer.close();
    await this.#teardown();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
