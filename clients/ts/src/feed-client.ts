/**
 * FeedClient: publishes ticks to /feed. Everything published in one
 * event-loop turn goes out as one frame (a batch, split at 4096 ticks or
 * `maxFrameBytes`); sending waits while the socket's buffer is above the
 * high-water mark; with `ack: true`, publish() returns the frame's ack.
 */
import { ErrorCode, MAX_BATCH } from '../../../src/protocol/codes.js';
import type { Tick } from '../../../src/protocol/types.js';
import { isRecord, packr, decodeFrame } from './codec.js';
import { Connection, type ConnectionOptions, State, type WebSocketLike } from './connection.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, TickwireClientError } from './errors.js';

export interface FeedClientOptions<Ack extends boolean = boolean> extends ConnectionOptions {
  /** The feed token. */
  readonly token: string;
  /** Ask the server to acknowledge every frame (`?ack=1`); publish() then returns a promise. */
  readonly ack?: Ack;
  /** Hold frames back while the socket has more than this many bytes buffered. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Largest frame to send; bigger batches are split. Default 1 MiB (the server's default limit). */
  readonly maxFrameBytes?: number;
}

/** The server's answer for the frame(s) that carried a publish() call. */
export interface FrameAck {
  /** Ticks published. */
  readonly accepted: number;
  /** Ticks rejected as invalid. */
  readonly rejected: number;
  /** Positions of the rejected ticks in the batch (at most 16 per frame). */
  readonly indices: readonly number[];
}

export type PublishResult<Ack extends boolean> = Ack extends true ? Promise<FrameAck> : void;

export interface FeedClientEvents {
  state: State;
  error: TickwireClientError;
  /** The local queue was emptied and the socket buffer fell below the high-water mark. */
  drain: void;
}

/** Ticks of one event-loop turn, possibly sent as several frames. */
class Batch {
  readonly ticks: Tick[] = [];
  frames = 0;
  acked = 0;
  accepted = 0;
  rejected = 0;
  readonly indices: number[] = [];
  error: TickwireClientError | undefined;
  readonly promise: Promise<FrameAck>;
  resolve!: (ack: FrameAck) => void;
  reject!: (err: TickwireClientError) => void;
  constructor() {
    this.promise = new Promise<FrameAck>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A caller that ignores the result must not cause an unhandled rejection.
    this.promise.catch(() => undefined);
  }
}

interface Frame {
  readonly bytes: Uint8Array;
  readonly batch: Batch;
  /** Index of the frame's first tick in its batch. */
  readonly offset: number;
  /** Ticks in the frame. */
  readonly count: number;
  /** Set by a bad_tick/bad_frame error that precedes the frame's ack. */
  indices?: readonly number[];
  error?: TickwireClientError;
}

const DRAIN_POLL_MS = 5;

export class FeedClient<Ack extends boolean = false> extends Emitter<FeedClientEvents> {
  readonly #conn: Connection;
  readonly #ack: boolean;
  readonly #hwm: number;
  readonly #maxFrameBytes: number;
  #batch: Batch | undefined;
  #flushScheduled = false;
  /** Encoded frames not yet handed to the socket. */
  readonly #queue: Frame[] = [];
  /** Frames sent on the current connection and not yet acknowledged (ack mode). */
  #inflight: Frame[] = [];
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #wasBackpressured = false;
  #drainWaiters: { resolve: () => void; reject: (e: TickwireClientError) => void }[] = [];
  #framesSent = 0;
  #ticksSent = 0;

  constructor(options: FeedClientOptions<Ack>) {
    super();
    this.#ack = options.ack === true;
    this.#hwm = options.highWaterMark ?? 1 << 20;
    this.#maxFrameBytes = options.maxFrameBytes ?? 1 << 20;
    this.#conn = new Connection(options, '/feed', options.token, {
      query: (): Record<string, string> => (this.#ack ? { ack: '1' } : {}),
      opened: () => this.#pump(),
      message: (data) => this.#onMessage(data),
      lost: (reconnecting) => this.#onLost(reconnecting),
      state: (s) => this.emit('state', s),
      error: (e) => this.emit('error', e),
    });
  }

  get state(): State {
    return this.#conn.state;
  }

  /** Frames and ticks handed to the socket so far. */
  get sent(): { readonly frames: number; readonly ticks: number } {
    return { frames: this.#framesSent, ticks: this.#ticksSent };
  }

  /**
   * True while frames wait locally (not connected, or the socket buffer is
   * above the high-water mark). Await drained() before publishing more.
   */
  get backpressured(): boolean {
    const ws = this.#conn.socket;
    return this.#queue.length > 0 || (ws !== undefined && ws.bufferedAmount > this.#hwm);
  }

  /**
   * Queues one tick or many; they leave in one frame with everything else
   * published in this event-loop turn. In ack mode, resolves with the
   * server's counts for that frame (rejects on bad_frame, a lost connection
   * or close()).
   */
  publish(ticks: Tick | readonly Tick[]): PublishResult<Ack> {
    if (this.#conn.state === State.Closed) {
      const err = new TickwireClientError(ClientErrorCode.Closed, 'publish() after close()');
      if (this.#ack) return Promise.reject(err) as PublishResult<Ack>;
      throw err;
    }
    const list: readonly Tick[] = Array.isArray(ticks) ? ticks : [ticks as Tick];
    const touched: Batch[] = [];
    let batch = this.#batch ?? (this.#batch = new Batch());
    touched.push(batch);
    for (const t of list) {
      if (batch.ticks.length >= MAX_BATCH) {
        this.#cut();
        batch = this.#batch = new Batch();
        touched.push(batch);
      }
      batch.ticks.push(t);
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    if (!this.#ack) return undefined as PublishResult<Ack>;
    const first = touched[0]!;
    if (touched.length === 1) return first.promise as PublishResult<Ack>;
    return Promise.all(touched.map((b) => b.promise)).then((acks) =>
      acks.reduce<FrameAck>(
        (sum, a) => ({
          accepted: sum.accepted + a.accepted,
          rejected: sum.rejected + a.rejected,
          indices: sum.indices.concat(a.indices),
        }),
        { accepted: 0, rejected: 0, indices: [] },
      ),
    ) as PublishResult<Ack>;
  }

  /** Resolves once nothing waits locally and the socket buffer is below the high-water mark. */
  drained(): Promise<void> {
    if (!this.backpressured && this.#batch === undefined) return Promise.resolve();
    if (this.#conn.state === State.Closed) {
      return Promise.reject(new TickwireClientError(ClientErrorCode.Closed, 'client is closed'));
    }
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /**
   * Sends what is pending (if connected), stops reconnecting and closes.
   * Unacknowledged publish() promises reject with code `closed`.
   */
  async close(): Promise<void> {
    this.#flush();
    const closing = this.#conn.close();
    clearTimeout(this.#pollTimer);
    await closing;
  }

  /** Turns the current batch into frames at the end of the turn. */
  #flush(): void {
    this.#flushScheduled = false;
    this.#cut();
    this.#pump();
  }

  #cut(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined || batch.ticks.length === 0) return;
    this.#encode(batch, 0, batch.ticks.length);
  }

  #encode(batch: Batch, from: number, to: number): void {
    const bytes: Uint8Array = packr.pack(batch.ticks.slice(from, to));
    if (bytes.length > this.#maxFrameBytes && to - from > 1) {
      const mid = from + Math.ceil((to - from) / 2);
      this.#encode(batch, from, mid);
      this.#encode(batch, mid, to);
      return;
    }
    batch.frames++;
    // Keep a copy: the frame may wait in the queue while packr reuses its buffer.
    this.#queue.push({ bytes: new Uint8Array(bytes), batch, offset: from, count: to - from });
  }

  /** Hands queued frames to the socket while its buffer is below the high-water mark. */
  #pump(): void {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    const ws: WebSocketLike | undefined = this.#conn.socket;
    if (ws === undefined) return;
    while (this.#queue.length > 0 && ws.bufferedAmount <= this.#hwm) {
      const frame = this.#queue.shift()!;
      ws.send(frame.bytes);
      this.#framesSent++;
      this.#ticksSent += frame.count;
      if (this.#ack) this.#inflight.push(frame);
      else this.#settle(frame, undefined);
    }
    if (this.backpressured) {
      this.#wasBackpressured = true;
      // Neither browsers nor `ws` signal a drained socket buffer: poll.
      this.#pollTimer = setTimeout(() => this.#pump(), DRAIN_POLL_MS);
    } else {
      this.#drainedNow();
    }
  }

  #drainedNow(): void {
    const waiters = this.#drainWaiters.splice(0);
    for (const w of waiters) w.resolve();
    if (this.#wasBackpressured) {
      this.#wasBackpressured = false;
      this.emit('drain');
    }
  }

  #onMessage(data: unknown): void {
    let msg: unknown;
    try {
      msg = decodeFrame(data);
    } catch {
      return;
    }
    if (!isRecord(msg)) return;
    if (msg.op === 'ack') {
      const frame = this.#inflight.shift();
      if (frame === undefined) return;
      const accepted = typeof msg.accepted === 'number' ? msg.accepted : 0;
      const rejected = typeof msg.rejected === 'number' ? msg.rejected : 0;
      this.#settle(frame, { accepted, rejected, indices: frame.indices ?? [] });
    } else if (msg.op === 'error' && typeof msg.code === 'string') {
      const indices = Array.isArray(msg.indices)
        ? msg.indices.filter((i): i is number => typeof i === 'number')
        : undefined;
      const err = new TickwireClientError(
        msg.code as ErrorCode,
        typeof msg.message === 'string' ? msg.message : msg.code,
        indices === undefined ? {} : { indices },
      );
      // The server sends a frame's error just before that frame's ack.
      const frame = this.#inflight[0];
      if (frame !== undefined) {
        if (err.code === ErrorCode.BadTick) frame.indices = indices ?? [];
        else frame.error = err;
      }
      this.emit('error', err);
    }
  }

  /** Records one frame's outcome; settles its batch when all its frames are in. */
  #settle(frame: Frame, ack: FrameAck | undefined, lost?: TickwireClientError): void {
    const batch = frame.batch;
    batch.acked++;
    if (lost !== undefined) batch.error ??= lost;
    if (frame.error !== undefined) batch.error ??= frame.error;
    if (ack !== undefined) {
      batch.accepted += ack.accepted;
      batch.rejected += ack.rejected;
      for (const i of ack.indices) batch.indices.push(i + frame.offset);
    }
    if (batch.acked < batch.frames) return;
    if (batch.error !== undefined) batch.reject(batch.error);
    else
      batch.resolve({ accepted: batch.accepted, rejected: batch.rejected, indices: batch.indices });
  }

  #onLost(reconnecting: boolean): void {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    // Frames sent but not acknowledged: their fate is unknown.
    const inflight = this.#inflight;
    this.#inflight = [];
    const lost = new TickwireClientError(
      reconnecting || this.#conn.state !== State.Closed
        ? ClientErrorCode.ConnectionLost
        : ClientErrorCode.Closed,
      'the connection closed before the server acknowledged the frame',
    );
    for (const f of inflight) this.#settle(f, undefined, lost);
    if (reconnecting) return;
    // Closed for good: nothing queued will ever be sent.
    const closed = new TickwireClientError(ClientErrorCode.Closed, 'the client is closed');
    for (const f of this.#queue.splice(0)) this.#settle(f, undefined, closed);
    const pending = this.#batch;
    this.#batch = undefined;
    pending?.reject(closed);
    for (const w of this.#drainWaiters.splice(0)) w.reject(closed);
  }
}
