/**
 * FeedClient: publishes ticks to /feed. Everything published in one
 * event-loop turn goes out as one frame (a batch, split at 4096 ticks or
 * `maxFrameBytes`); sending waits while the socket's buffer is above the
 * high-water mark; with `ack: true`, publish() returns the frame's ack,
 * matched by the ack's frame number. Frames waiting to be sent (offline or
 * backpressured) are bounded by count and by age: a stale price is dropped,
 * never published late.
 */
import { ErrorCode, MAX_BATCH } from '../../../src/protocol/codes.js';
import type { Tick } from '../../../src/protocol/types.js';
import { isRecord, packr, decodeFrame } from './codec.js';
import {
  type ConnectFailed,
  Connection,
  type ConnectionOptions,
  type Loss,
  State,
  type WebSocketLike,
} from './connection.js';
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
  /**
   * Most frames waiting to be sent (while disconnected or backpressured);
   * past it the oldest are dropped (`queue_full`). Default 1000.
   */
  readonly maxQueuedFrames?: number;
  /**
   * Longest a frame may wait to be sent (ms), counted from the turn its ticks
   * were published; older frames are dropped unsent (`expired`). Default 5000.
   */
  readonly maxQueueAgeMs?: number;
}

/** Frames dropped unsent by the queue bounds (the `dropped` event). */
export interface Dropped {
  /** `expired`: older than maxQueueAgeMs; `queue_full`: more than maxQueuedFrames waited. */
  readonly reason: typeof ClientErrorCode.Expired | typeof ClientErrorCode.QueueFull;
  readonly frames: number;
  readonly ticks: number;
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
  /** A connection attempt failed (after each one; see ConnectFailed). */
  connectFailed: ConnectFailed;
  /** The local queue was emptied and the socket buffer fell below the high-water mark. */
  drain: void;
  /** Queued frames were dropped unsent (see maxQueuedFrames, maxQueueAgeMs). */
  dropped: Dropped;
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
  /** performance.now() when the frame was made (the turn of its publish() calls). */
  readonly born: number;
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
  readonly #maxQueuedFrames: number;
  readonly #maxQueueAgeMs: number;
  #batch: Batch | undefined;
  #flushScheduled = false;
  /** Encoded frames not yet handed to the socket, oldest first. */
  #queue: Frame[] = [];
  /**
   * Ack mode: frames sent on the current connection and not yet acknowledged,
   * by frame number (the server numbers a connection's frames from 1).
   */
  readonly #inflight = new Map<number, Frame>();
  /** Frames sent on the current connection (the last frame's number). */
  #frameNo = 0;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #wasBackpressured = false;
  #drainWaiters: { resolve: () => void; reject: (e: TickwireClientError) => void }[] = [];
  #framesSent = 0;
  #ticksSent = 0;
  #framesDropped = 0;
  #ticksDropped = 0;

  constructor(options: FeedClientOptions<Ack>) {
    super();
    this.#ack = options.ack === true;
    this.#hwm = options.highWaterMark ?? 1 << 20;
    this.#maxFrameBytes = options.maxFrameBytes ?? 1 << 20;
    this.#maxQueuedFrames = Math.max(1, options.maxQueuedFrames ?? 1000);
    this.#maxQueueAgeMs = options.maxQueueAgeMs ?? 5000;
    this.#conn = new Connection(options, '/feed', options.token, {
      query: (): Record<string, string> => (this.#ack ? { ack: '1' } : {}),
      opened: () => {
        this.#frameNo = 0;
        this.#pump();
      },
      message: (data) => this.#onMessage(data),
      lost: (loss) => this.#onLost(loss),
      state: (s) => this.emit('state', s),
      error: (e) => this.emit('error', e),
      connectFailed: (info) => this.emit('connectFailed', info),
    });
  }

  get state(): State {
    return this.#conn.state;
  }

  /** Frames and ticks handed to the socket so far. */
  get sent(): { readonly frames: number; readonly ticks: number } {
    return { frames: this.#framesSent, ticks: this.#ticksSent };
  }

  /** Frames and ticks dropped unsent by the queue bounds so far (see the `dropped` event). */
  get dropped(): { readonly frames: number; readonly ticks: number } {
    return { frames: this.#framesDropped, ticks: this.#ticksDropped };
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
   * server's counts for that frame (rejects on bad_frame, a lost connection,
   * a dropped frame, or close()).
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
    if (this.#queue.length > 0) this.#trim(performance.now());
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
    this.#queue.push({
      bytes: new Uint8Array(bytes),
      batch,
      offset: from,
      count: to - from,
      born: performance.now(),
    });
  }

  /**
   * Applies the queue bounds: drops frames older than maxQueueAgeMs, then
   * the oldest past maxQueuedFrames, and sets the timer for the next expiry.
   */
  #trim(now: number): void {
    const queue = this.#queue;
    let expired = 0;
    while (expired < queue.length && now - queue[expired]!.born > this.#maxQueueAgeMs) expired++;
    if (expired > 0) this.#drop(queue.splice(0, expired), ClientErrorCode.Expired);
    const over = queue.length - this.#maxQueuedFrames;
    if (over > 0) this.#drop(queue.splice(0, over), ClientErrorCode.QueueFull);
    if (this.#expiryTimer === undefined && queue.length > 0 && this.#maxQueueAgeMs !== Infinity) {
      const due = queue[0]!.born + this.#maxQueueAgeMs - now + 1;
      this.#expiryTimer = setTimeout(() => this.#onExpiry(), Math.max(0, due));
    }
  }

  #onExpiry(): void {
    this.#expiryTimer = undefined;
    this.#trim(performance.now());
    if (!this.backpressured) this.#drainedNow();
  }

  #drop(frames: readonly Frame[], reason: Dropped['reason']): void {
    const err = new TickwireClientError(
      reason,
      reason === ClientErrorCode.Expired
        ? `dropped unsent: waited longer than ${this.#maxQueueAgeMs} ms`
        : `dropped unsent: more than ${this.#maxQueuedFrames} frames waited`,
    );
    let ticks = 0;
    for (const f of frames) {
      ticks += f.count;
      this.#settle(f, undefined, err);
    }
    this.#framesDropped += frames.length;
    this.#ticksDropped += ticks;
    this.emit('dropped', { reason, frames: frames.length, ticks });
  }

  /** Hands queued frames to the socket while its buffer is below the high-water mark. */
  #pump(): void {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    const ws: WebSocketLike | undefined = this.#conn.socket;
    if (ws === undefined) return;
    // Nothing older than maxQueueAgeMs leaves.
    if (this.#queue.length > 0) this.#trim(performance.now());
    while (this.#queue.length > 0 && ws.bufferedAmount <= this.#hwm) {
      const frame = this.#queue.shift()!;
      ws.send(frame.bytes);
      this.#framesSent++;
      this.#ticksSent += frame.count;
      if (this.#ack) this.#inflight.set(++this.#frameNo, frame);
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
      const no = msg.frame;
      const frame = typeof no === 'number' ? this.#inflight.get(no) : undefined;
      // An ack for a frame not in flight (never sent on this connection, or
      // already settled) changes nothing.
      if (frame === undefined) return;
      // Acks come in frame order: an earlier frame still waiting will never
      // get its ack (its fate is unknown).
      for (const [k, f] of this.#inflight) {
        if (k >= (no as number)) break;
        this.#inflight.delete(k);
        this.#settle(
          f,
          undefined,
          new TickwireClientError(
            ClientErrorCode.AckMissing,
            `the server acknowledged frame ${no as number} but never frame ${k}`,
          ),
        );
      }
      this.#inflight.delete(no as number);
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
      // The server names the frame an error is about (`frame`, counted like
      // acks). Without it (older servers), it is the oldest frame still
      // waiting: the embedded bus sends a frame's error just before its ack
      // (with NATS the ack waits for storage, so later frames' errors can
      // come first: only `frame` is right there).
      const frame =
        typeof msg.frame === 'number'
          ? this.#inflight.get(msg.frame)
          : this.#inflight.values().next().value;
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

  #onLost(loss: Loss): void {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    // Frames sent but not acknowledged: their fate is unknown. A close with
    // a coded reason (e.g. 1008 for a feed that does not read its acks)
    // rejects them with that code.
    const inflight = [...this.#inflight.values()];
    this.#inflight.clear();
    const lost =
      loss.closeError ??
      new TickwireClientError(
        loss.reconnecting || this.#conn.state !== State.Closed
          ? ClientErrorCode.ConnectionLost
          : ClientErrorCode.Closed,
        'the connection closed before the server acknowledged the frame',
      );
    for (const f of inflight) this.#settle(f, undefined, lost);
    if (loss.reconnecting) return;
    // Stopped for good: nothing queued will ever be sent. Rejected with why
    // the client stopped (unauthorized, connect_failed), or closed.
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    const final =
      loss.finalError ?? new TickwireClientError(ClientErrorCode.Closed, 'the client is closed');
    const queue = this.#queue;
    this.#queue = [];
    for (const f of queue) this.#settle(f, undefined, final);
    const pending = this.#batch;
    this.#batch = undefined;
    pending?.reject(final);
    for (const w of this.#drainWaiters.splice(0)) w.reject(final);
  }
}
