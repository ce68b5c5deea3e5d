/**
 * The NATS bus: ticks validated by this node are numbered through JetStream
 * (see sequencer.ts) and every node, this one included, fans out what the
 * stream delivers to its own subscribers. The stream (`TICKWIRE`, subjects
 * `tickwire.tick.>`, file storage, `history` batches kept per subject) is
 * also the history: on start-up a node reads it from the beginning, which
 * fills each symbol's last value and recovery ring, and /readyz stays 503
 * until it has caught up. While NATS is unreachable the node is not ready;
 * the client reconnects by itself and the ordered consumer resumes after the
 * last message it saw.
 */
import { randomBytes } from 'node:crypto';
import {
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  NatsError,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
} from 'nats';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import { AppendError, JetStreamAppender } from './jetstream-appender.js';
import { LogSequencer, type SequencedLog } from './sequencer.js';
import { ALL_SUBJECTS, symbolOf } from './subjects.js';

export const STREAM_NAME = 'TICKWIRE';
/** JetStream API error: wrong last sequence for the subject. */
const JS_WRONG_LAST_SEQUENCE = 10071;
/** JetStream API error: no message found. */
const JS_NO_MESSAGE_FOUND = 10037;
const APPEND_TIMEOUT_MS = 2000;
/** How long the stream may be ahead of this node with nothing arriving before the consumer is recreated. */
const WATCHDOG_MS = 2000;
const CONSUMER_CREATE_TIMEOUT_MS = 5000;

export interface NatsBusOptions {
  /** Comma-separated server URLs. */
  readonly servers: string;
  /** Batches kept per symbol in the stream (each holds at least one update). */
  readonly history: number;
  /** Stream replicas when the stream is created (a NATS cluster keeps that many copies). */
  readonly replicas?: number;
  /** Shown in NATS connection names. */
  readonly name?: string;
}

/** Counters for /stats and /metrics. */
export interface BusStats {
  readonly kind: 'nats';
  readonly connected: boolean;
  readonly caught_up: boolean;
  readonly pending: number;
  readonly stored: number;
  readonly conflicts: number;
  readonly retries: number;
  readonly reconnects: number;
  readonly consumer_restarts: number;
}

export class NatsBus {
  readonly #pipeline: Pipeline;
  readonly #options: NatsBusOptions;
  readonly sequencer: LogSequencer;
  readonly #entries = new Map<string, SymbolEntry | null>();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #appender: JetStreamAppender | undefined;
  #jsm: JetStreamManager | undefined;
  #messages: ConsumerMessages | undefined;
  #connected = false;
  /** Stream sequence to reach before the node counts as caught up. */
  #catchUpTo = 0;
  #lastSeen = 0;
  #caughtUp = false;
  #reconnects = 0;
  #closing = false;
  #starting: Promise<void> | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #consumerGen = 0;
  #consumerRestarts = 0;
  #restarting = false;
  #lastMessageAt = 0;

  constructor(pipeline: Pipeline, options: NatsBusOptions) {
    this.#pipeline = pipeline;
    this.#options = options;
    const nodeId = randomBytes(6).toString('base64url');
    this.sequencer = new LogSequencer(
      jetStreamLog(
        () => this.#appender,
        () => this.#jsm,
      ),
      { nodeId },
    );
    pipeline.sequencer = this.sequencer;
  }

  /** Connected to NATS and caught up with the stream. */
  get ready(): boolean {
    return this.#connected && this.#caughtUp;
  }

  stats(): BusStats {
    return {
      kind: 'nats',
      connected: this.#connected,
      caught_up: this.#caughtUp,
      pending: this.sequencer.pending,
      stored: this.sequencer.stored,
      conflicts: this.sequencer.conflicts,
      retries: this.sequencer.retries,
      reconnects: this.#reconnects,
      consumer_restarts: this.#consumerRestarts,
    };
  }

  /**
   * Connects (retrying forever in the background when NATS is not there yet),
   * creates or updates the stream and starts consuming it. Resolves once
   * connected and consuming; readiness follows when caught up.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch(async (err: unknown) => {
      // Start afresh on the next call (e.g. JetStream was not ready yet).
      this.#starting = undefined;
      const nc = this.#nc;
      this.#nc = undefined;
      this.#connected = false;
      if (nc !== undefined && !nc.isClosed()) await nc.close().catch(() => undefined);
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
    this.#jsm = await nc.jetstreamManager();
    this.#js = nc.jetstream();
    this.#appender = new JetStreamAppender(nc, APPEND_TIMEOUT_MS);
    await ensureStream(this.#jsm, this.#options.history, this.#options.replicas ?? 1);
    const info = await this.#jsm.streams.info(STREAM_NAME);
    this.#catchUpTo = info.state.last_seq;
    if (this.#catchUpTo === 0) this.#caughtUp = true;
    await this.#consume();
    this.#watchdog = setInterval(() => void this.#checkConsumer(), WATCHDOG_MS);
    this.#watchdog.unref();
  }

  /**
   * (Re)creates the ordered consumer, starting after the last message seen.
   * nats.js 2.x's ordered consumer did not always resume by itself: after a
   * reconnect to another server of a cluster (the one holding the ephemeral
   * consumer was killed) it went silent with no status event, on this
   * machine. So the bus recreates it itself on every reconnect and whenever
   * the watchdog sees the stream ahead of us with nothing arriving.
   */
  async #consume(): Promise<void> {
    const js = this.#js;
    if (js === undefined || this.#closing) return;
    const gen = ++this.#consumerGen;
    this.#messages?.stop();
    this.#messages = undefined;
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

  /** Recreates the consumer when the stream is ahead and nothing arrived for a while. */
  async #checkConsumer(): Promise<void> {
    const jsm = this.#jsm;
    if (jsm === undefined || !this.#connected || this.#closing || this.#restarting) return;
    if (Date.now() - this.#lastMessageAt < WATCHDOG_MS) return;
    try {
      const last = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
      if (last > this.#lastSeen) await this.#restartConsumer('stalled');
    } catch (err) {
      // NATS busy or unreachable: the next round tries again.
      process.stderr.write(
        `tickwire: NATS stream check failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    }
  }

  async #restartConsumer(why: string): Promise<void> {
    if (this.#restarting || this.#closing) return;
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
      process.stderr.write(
        `tickwire: NATS consumer restart (${why}) failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    } finally {
      clearTimeout(timer);
      this.#restarting = false;
    }
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) this.#connected = false;
      else if (s.type === Events.Reconnect) {
        this.#connected = true;
        this.#reconnects++;
        void this.#restartConsumer('reconnect');
      }
    }
  }

  #onMessage(m: JsMsg): void {
    this.#lastMessageAt = Date.now();
    // A recreated consumer may repeat what an old one delivered.
    if (m.seq <= this.#lastSeen) return;
    const entry = this.#entryFor(m.subject);
    if (entry !== undefined) {
      this.#pipeline.deliverBatch(entry, m.data);
      this.sequencer.observe(entry, m.seq, m.data);
    }
    this.#lastSeen = m.seq;
    if (!this.#caughtUp && m.seq >= this.#catchUpTo) this.#caughtUp = true;
  }

  #entryFor(subject: string): SymbolEntry | undefined {
    let e = this.#entries.get(subject);
    if (e === undefined) {
      const name = symbolOf(subject);
      e = (name === undefined ? undefined : this.#pipeline.symbols.internName(name)) ?? null;
      this.#entries.set(subject, e);
    }
    return e ?? undefined;
  }

  /**
   * Shutdown: waits (up to `timeoutMs`) until every tick accepted from feeds
   * is stored and delivered back, then stops consuming and closes.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.sequencer.whenIdle(timeoutMs);
    // Our own last batches come back through the consumer: wait for them.
    const target = this.sequencer.stored > 0 ? await this.#lastStreamSeq() : 0;
    while (this.#lastSeen < target && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async #lastStreamSeq(): Promise<number> {
    try {
      return (await this.#jsm!.streams.info(STREAM_NAME)).state.last_seq;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#watchdog);
    this.sequencer.close();
    this.#appender?.close();
    this.#messages?.stop();
    const nc = this.#nc;
    this.#nc = undefined;
    this.#connected = false;
    if (nc !== undefined && !nc.isClosed()) await nc.close();
  }
}

/**
 * The sequencer's log over JetStream: append = publish with the
 * expected-last-subject-sequence guard and a message id (de-duplication);
 * last = direct get of the subject's last message.
 */
export function jetStreamLog(
  appender: () => JetStreamAppender | undefined,
  jsm: () => JetStreamManager | undefined,
): SequencedLog {
  return {
    append: async (subject, payload, expectLastSeq, msgId) => {
      const a = appender();
      if (a === undefined) throw new Error('NATS not connected yet');
      return { seq: await a.append(subject, payload, expectLastSeq, msgId) };
    },
    last: async (subject) => {
      const manager = jsm();
      if (manager === undefined) throw new Error('NATS not connected yet');
      try {
        const m = await manager.streams.getMessage(STREAM_NAME, { last_by_subj: subject });
        return { seq: m.seq, payload: m.data, msgId: m.header?.get('Nats-Msg-Id') ?? '' };
      } catch (err) {
        if (err instanceof NatsError && err.api_error?.err_code === JS_NO_MESSAGE_FOUND)
          return undefined;
        throw err;
      }
    },
    isConflict: (err) => err instanceof AppendError && err.errCode === JS_WRONG_LAST_SEQUENCE,
  };
}

/** Creates the stream, or brings an existing one's per-subject limit in line. */
export async function ensureStream(
  jsm: JetStreamManager,
  history: number,
  replicas: number,
): Promise<void> {
  const config = {
    name: STREAM_NAME,
    subjects: [ALL_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: Math.max(1, history),
    duplicate_window: nanos(120_000),
    num_replicas: replicas,
  };
  try {
    await jsm.streams.add(config);
  } catch (err) {
    // Already there (another node made it): bring its limits in line.
    if (err instanceof NatsError && err.api_error?.err_code === 10058) {
      await jsm.streams.update(STREAM_NAME, {
        max_msgs_per_subject: config.max_msgs_per_subject,
      });
    } else {
      throw err;
    }
  }
}
