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
  DiscardPolicy,
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
import { LogSequencer, type SequencedLog } from './sequencer.js';
import { ALL_SUBJECTS, symbolOf } from './subjects.js';

export const STREAM_NAME = 'TICKWIRE';
/** JetStream API error: wrong last sequence for the subject. */
const JS_WRONG_LAST_SEQUENCE = 10071;
/** JetStream API error: no message found. */
const JS_NO_MESSAGE_FOUND = 10037;
const APPEND_TIMEOUT_MS = 2000;

export interface NatsBusOptions {
  /** Comma-separated server URLs. */
  readonly servers: string;
  /** Batches kept per symbol in the stream (each holds at least one update). */
  readonly history: number;
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
}

export class NatsBus {
  readonly #pipeline: Pipeline;
  readonly #options: NatsBusOptions;
  readonly sequencer: LogSequencer;
  readonly #entries = new Map<string, SymbolEntry | null>();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
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

  constructor(pipeline: Pipeline, options: NatsBusOptions) {
    this.#pipeline = pipeline;
    this.#options = options;
    const nodeId = randomBytes(6).toString('base64url');
    this.sequencer = new LogSequencer(this.#log(), { nodeId });
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
    await this.#ensureStream(this.#jsm);
    const info = await this.#jsm.streams.info(STREAM_NAME);
    this.#catchUpTo = info.state.last_seq;
    if (this.#catchUpTo === 0) this.#caughtUp = true;
    const consumer = await this.#js.consumers.get(STREAM_NAME, {
      filterSubjects: ALL_SUBJECTS,
    });
    this.#messages = await consumer.consume({
      max_messages: 1024,
      callback: (m: JsMsg) => this.#onMessage(m),
    });
  }

  async #ensureStream(jsm: JetStreamManager): Promise<void> {
    const config = {
      name: STREAM_NAME,
      subjects: [ALL_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: Math.max(1, this.#options.history),
      duplicate_window: nanos(120_000),
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

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.#connected = false;
      else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#reconnects++;
      }
    }
  }

  #onMessage(m: JsMsg): void {
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
    this.sequencer.close();
    this.#messages?.stop();
    const nc = this.#nc;
    this.#nc = undefined;
    this.#connected = false;
    if (nc !== undefined && !nc.isClosed()) await nc.close();
  }

  #log(): SequencedLog {
    return {
      append: async (subject, payload, expectLastSeq, msgId) => {
        const js = this.#js;
        if (js === undefined) throw new Error('NATS not connected yet');
        const ack = await js.publish(subject, payload, {
          msgID: msgId,
          expect: { lastSubjectSequence: expectLastSeq },
          timeout: APPEND_TIMEOUT_MS,
        });
        return { seq: ack.seq };
      },
      last: async (subject) => {
        const jsm = this.#jsm;
        if (jsm === undefined) throw new Error('NATS not connected yet');
        try {
          const m = await jsm.streams.getMessage(STREAM_NAME, { last_by_subj: subject });
          return { seq: m.seq, payload: m.data, msgId: m.header?.get('Nats-Msg-Id') ?? '' };
        } catch (err) {
          if (err instanceof NatsError && err.api_error?.err_code === JS_NO_MESSAGE_FOUND)
            return undefined;
          throw err;
        }
      },
      isConflict: (err) =>
        err instanceof NatsError && err.api_error?.err_code === JS_WRONG_LAST_SEQUENCE,
    };
  }
}
