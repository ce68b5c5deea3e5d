/**
 * StreamClient: subscribes on /stream and emits typed events. Tracks each
 * symbol's sequence number `n`: snapshot entries set the baseline, a jump
 * forward is a `gap`, another numbering (a new `epoch`, or without epochs
 * an `n` that went back after a reconnect) is a `reset`, and live updates
 * already covered by the snapshot are dropped. Subscriptions (with their
 * throttles) are re-sent after every reconnect, with `since` and `epoch` so
 * that the server can replay what was missed.
 */
import { ALL_SYMBOLS, type ErrorCode } from '../../../src/protocol/codes.js';
import { isValidSymbol } from '../../../src/protocol/control.js';
import type {
  ControlRequest,
  SubscribedMessage,
  UnsubscribedMessage,
  Update,
} from '../../../src/protocol/types.js';
import { decodeFrame, isRecord, packr } from './codec.js';
import { type ConnectFailed, Connection, type ConnectionOptions, State } from './connection.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, TickwireClientError } from './errors.js';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  type SubscribeParts,
  requestBytes,
  splitSubscribe,
  subscribeRequest,
} from './subscribe-requests.js';

export type StreamFormat = 'msgpack' | 'json';

export interface StreamClientOptions extends ConnectionOptions {
  /** The stream token, when the server requires one. */
  readonly token?: string;
  /** Wire format of the server's messages. Default `msgpack`. */
  readonly format?: StreamFormat;
  /** Symbols to subscribe to at once (`"*"` = all). */
  readonly symbols?: readonly string[];
  /**
   * Throttle (ms) for `symbols` and for subscribe() calls that name none:
   * at most one update per symbol per interval, the latest. Default 0 (live).
   */
  readonly throttle?: number;
  /** How long ping() waits for its pong. Default 10 000 ms. */
  readonly pingTimeoutMs?: number;
  /**
   * After a reconnect, resubscribe with `since` (the last n seen per symbol)
   * and `epoch` so the server replays what was missed. Default true.
   */
  readonly recover?: boolean;
  /**
   * Largest control message to send (bytes): longer subscribes are split.
   * Default 16 KiB, the server's default `--max-stream-frame`; set it to the
   * server's value if that is lower.
   */
  readonly maxRequestBytes?: number;
}

export interface SubscribeOptions {
  /** Throttle (ms) for these symbols; 0 = live. Default: the client's `throttle` option. */
  readonly throttle?: number;
}

/** The outcome of a resubscribe with `since` after a reconnect. */
export interface Resumed {
  /** True: the server replayed every missed update; false: a snapshot resynced instead. */
  readonly recovered: boolean;
  readonly symbols: readonly string[];
}

/** Updates of `symbol` between `expected` and `got - 1` were missed. */
export interface Gap {
  readonly symbol: string;
  readonly expected: number;
  readonly got: number;
}

/**
 * `symbol`'s numbering started over: drop what was kept for it. `previous`
 * is the last n seen in the old numbering.
 * - `epoch`: the server names another numbering (`epoch`) than the one
 *   `previous` belongs to; raised for every tracked symbol, before the
 *   snapshot of the new numbering, which then sets the baseline.
 * - `sequence` (servers that send no epoch): n went back after a reconnect;
 *   `got` is the new n.
 */
export type Reset =
  | {
      readonly reason: 'epoch';
      readonly symbol: string;
      readonly previous: number;
      readonly epoch: string;
      readonly previousEpoch: string;
    }
  | {
      readonly reason: 'sequence';
      readonly symbol: string;
      readonly previous: number;
      readonly got: number;
    };

/**
 * A reconnect resubscribed without `since`: a `"*"` resume must name every
 * tracked symbol in one request, and `symbols` of them do not fit in
 * `maxRequestBytes`. The snapshot resyncs instead (gaps are still reported).
 */
export interface RecoverySkipped {
  readonly reason: 'too_many_symbols';
  readonly symbols: number;
}

export interface StreamClientEvents {
  update: Update;
  snapshot: readonly Update[];
  subscribed: SubscribedMessage;
  unsubscribed: UnsubscribedMessage;
  gap: Gap;
  reset: Reset;
  resumed: Resumed;
  recoverySkipped: RecoverySkipped;
  error: TickwireClientError;
  state: State;
  connectFailed: ConnectFailed;
}

interface Seq {
  n: number;
  /** The connection the last n was seen on. */
  conn: number;
}

interface PendingPing {
  readonly start: number;
  readonly resolve: (ms: number) => void;
  readonly reject: (err: TickwireClientError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A request sent on this connection and not answered yet. */
interface Sent {
  readonly request: ControlRequest;
  /** Part of the resume after a reconnect (counted for `resumed`). */
  readonly resume: boolean;
  /**
   * For a subscribe: each symbol's throttle before it (absent: it was not
   * subscribed), restored if the server refuses the request.
   */
  readonly before?: ReadonlyMap<string, number>;
}

/** A resume in progress: its requests' replies are combined into one `resumed`. */
interface Resume {
  pending: number;
  recovered: boolean;
  readonly symbols: string[];
}

function isUpdate(v: unknown): v is Update {
  return isRecord(v) && typeof v.s === 'string' && typeof v.n === 'number';
}

export class StreamClient extends Emitter<StreamClientEvents> {
  readonly #conn: Connection;
  readonly #format: StreamFormat;
  readonly #pingTimeoutMs: number;
  readonly #throttle: number;
  readonly #maxRequestBytes: number;
  /** Subscribed symbols and their requested throttle (0 = live). */
  readonly #symbols = new Map<string, number>();
  readonly #seq = new Map<string, Seq>();
  readonly #pings = new Map<number, PendingPing>();
  /** The numbering the tracked `n` belong to, from `subscribed`/`snapshot`. */
  #epoch: string | undefined;
  #connection = 0;
  #nextPingId = 1;
  readonly #recover: boolean;
  #resume: Resume | undefined;
  /**
   * Requests sent on this connection and not answered yet, oldest first. The
   * server answers every control message with exactly one reply, in order
   * (`subscribed`, `unsubscribed`, `pong` or `error`), so an `error` answers
   * the oldest: a refused subscribe's symbols are forgotten, so that
   * subscribe() can ask for them again.
   */
  #requests: Sent[] = [];

  constructor(options: StreamClientOptions) {
    super();
    this.#format = options.format ?? 'msgpack';
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
    this.#recover = options.recover ?? true;
    this.#throttle = checkThrottle(options.throttle ?? 0);
    this.#maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    for (const s of options.symbols ?? []) this.#symbols.set(checkSymbol(s), this.#throttle);
    this.#conn = new Connection(options, '/stream', options.token, {
      query: (): Record<string, string> => (this.#format === 'json' ? { format: 'json' } : {}),
      opened: () => {
        this.#connection++;
        this.#requests = [];
        this.#resume = undefined;
        if (this.#symbols.size > 0) this.#resubscribe();
      },
      message: (data) => this.#onMessage(data),
      lost: (loss) => this.#rejectPings(loss.closeError ?? loss.finalError),
      state: (s) => this.emit('state', s),
      error: (e) => this.emit('error', e),
      connectFailed: (info) => this.emit('connectFailed', info),
    });
  }

  get state(): State {
    return this.#conn.state;
  }

  /** The symbols subscribed to (re-sent after each reconnect). */
  get symbols(): readonly string[] {
    return [...this.#symbols.keys()];
  }

  /** The server's numbering identity last seen (undefined until a server sends one). */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** The last sequence number seen for `symbol`. */
  lastSeq(symbol: string): number | undefined {
    return this.#seq.get(symbol)?.n;
  }

  /**
   * Subscribes to symbols not subscribed yet; with `options.throttle`, also
   * sets that throttle on symbols already subscribed with another one.
   */
  subscribe(symbols: readonly string[], options: SubscribeOptions = {}): void {
    const throttle = checkThrottle(options.throttle ?? this.#throttle);
    const before = new Map<string, number>();
    const changed: string[] = [];
    for (const s of symbols.map(checkSymbol)) {
      const had = this.#symbols.get(s);
      // Already subscribed (or listed twice), with this throttle or none asked for.
      if (had !== undefined && (options.throttle === undefined || had === throttle)) continue;
      if (had !== undefined) before.set(s, had);
      changed.push(s);
      this.#symbols.set(s, throttle);
    }
    if (changed.length === 0) return;
    for (const request of splitSubscribe(changed, { throttle }, this.#maxRequestBytes)) {
      if (!this.#send(request, false, before)) return;
    }
  }

  unsubscribe(symbols: readonly string[]): void {
    const removed = symbols.filter((s) => this.#symbols.delete(s));
    if (removed.length === 0) return;
    this.#forgetUnwanted();
    this.#send({ op: 'unsubscribe', symbols: removed });
  }

  /** Round trip to the server in milliseconds. */
  ping(): Promise<number> {
    const id = this.#nextPingId++;
    if (!this.#send({ op: 'ping', id })) {
      return Promise.reject(
        new TickwireClientError(ClientErrorCode.ConnectionLost, 'ping() while not connected'),
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new TickwireClientError(ClientErrorCode.Timeout, 'no pong in time'));
      }, this.#pingTimeoutMs);
      this.#pings.set(id, { start: performance.now(), resolve, reject, timer });
    });
  }

  /** Stops reconnecting and closes the connection. */
  close(): Promise<void> {
    return this.#conn.close();
  }

  /**
   * Subscribes again after a (re)connect, one request per throttle value
   * (split to fit maxRequestBytes), with `since` and `epoch` when recovery
   * is possible.
   */
  #resubscribe(): void {
    const groups = new Map<number, string[]>();
    for (const [s, t] of this.#symbols) {
      const group = groups.get(t);
      if (group === undefined) groups.set(t, [s]);
      else group.push(s);
    }
    const max = this.#maxRequestBytes;
    const recover = this.#connection > 1 && this.#recover && this.#seq.size > 0;
    if (!recover) {
      for (const [throttle, group] of groups) {
        for (const r of splitSubscribe(group, { throttle }, max)) this.#send(r);
      }
      return;
    }
    const since = new Map<string, number>();
    for (const [s, q] of this.#seq) since.set(s, q.n);
    const epoch = this.#epoch;
    const resume: Resume = { pending: 0, recovered: true, symbols: [] };
    this.#resume = resume;
    const wildcard = this.#symbols.get(ALL_SYMBOLS);
    if (wildcard === undefined) {
      // Named symbols: each request resumes its own symbols.
      for (const [throttle, group] of groups) {
        const parts: SubscribeParts = {
          throttle,
          since,
          ...(epoch === undefined ? {} : { epoch }),
        };
        for (const r of splitSubscribe(group, parts, max)) {
          if (this.#send(r, true)) resume.pending++;
        }
      }
      return;
    }
    // "*": symbols missing from its `since` count as none seen, so one
    // request must name every tracked symbol. It goes first: the named
    // subscriptions re-sent after it then find their updates already seen.
    const parts: SubscribeParts = {
      throttle: wildcard,
      since,
      ...(epoch === undefined ? {} : { epoch }),
    };
    if (requestBytes([ALL_SYMBOLS], parts, since.keys()) <= max) {
      if (this.#send(subscribeRequest([ALL_SYMBOLS], parts, since.keys()), true)) {
        resume.pending++;
      }
    } else {
      this.#resume = undefined;
      this.emit('recoverySkipped', { reason: 'too_many_symbols', symbols: since.size });
      this.#send(subscribeRequest([ALL_SYMBOLS], { throttle: wildcard }));
    }
    for (const [throttle, group] of groups) {
      const named = group.filter((s) => s !== ALL_SYMBOLS);
      for (const r of splitSubscribe(named, { throttle }, max)) this.#send(r);
    }
  }

  #wants(symbol: string): boolean {
    return this.#symbols.has(ALL_SYMBOLS) || this.#symbols.has(symbol);
  }

  /** Whether the server throttles `symbol` (skipped updates are then no gap). */
  #throttled(symbol: string): boolean {
    const all = this.#symbols.get(ALL_SYMBOLS);
    return (all ?? this.#symbols.get(symbol) ?? 0) > 0;
  }

  #send(request: ControlRequest, resume = false, before?: ReadonlyMap<string, number>): boolean {
    const ws = this.#conn.socket;
    if (ws === undefined) return false;
    ws.send(
      this.#format === 'json' ? JSON.stringify(request) : new Uint8Array(packr.pack(request)),
    );
    this.#requests.push({ request, resume, ...(before === undefined ? {} : { before }) });
    return true;
  }

  #rejectPings(cause: TickwireClientError | undefined): void {
    for (const p of this.#pings.values()) {
      clearTimeout(p.timer);
      p.reject(cause ?? new TickwireClientError(ClientErrorCode.ConnectionLost, 'connection lost'));
    }
    this.#pings.clear();
  }

  #onMessage(data: unknown): void {
    let msg: unknown;
    try {
      msg = decodeFrame(data);
    } catch {
      return;
    }
    if (Array.isArray(msg)) {
      for (const u of msg as unknown[]) this.#onUpdate(u);
      return;
    }
    if (!isRecord(msg)) return;
    switch (msg.op) {
      case undefined:
        this.#onUpdate(msg);
        return;
      case 'subscribed': {
        const sent = this.#requests.shift();
        this.#checkEpoch(msg.epoch);
        const reply = msg as unknown as SubscribedMessage;
        this.emit('subscribed', reply);
        if (sent?.resume === true) this.#resumeReplied(reply.recovered === true, reply.symbols);
        return;
      }
      case 'unsubscribed':
        this.#requests.shift();
        this.emit('unsubscribed', msg as unknown as UnsubscribedMessage);
        return;
      case 'snapshot': {
        this.#checkEpoch(msg.epoch);
        const ticks = Array.isArray(msg.ticks) ? (msg.ticks as unknown[]).filter(isUpdate) : [];
        for (const t of ticks) this.#track(t, true);
        this.emit('snapshot', ticks);
        return;
      }
      case 'pong': {
        this.#requests.shift();
        const id = typeof msg.id === 'number' ? msg.id : -1;
        const p = this.#pings.get(id);
        if (p === undefined) return;
        this.#pings.delete(id);
        clearTimeout(p.timer);
        p.resolve(performance.now() - p.start);
        return;
      }
      case 'error':
        this.#refused(this.#requests.shift());
        this.emit(
          'error',
          new TickwireClientError(
            msg.code as ErrorCode,
            typeof msg.message === 'string' ? msg.message : String(msg.code),
          ),
        );
        return;
      default:
        return;
    }
  }

  /** One reply to the resume's requests; the last one emits `resumed`. */
  #resumeReplied(recovered: boolean, symbols: readonly string[]): void {
    const resume = this.#resume;
    if (resume === undefined) return;
    resume.pending--;
    resume.recovered &&= recovered;
    resume.symbols.push(...symbols);
    if (resume.pending > 0) return;
    this.#resume = undefined;
    this.emit('resumed', { recovered: resume.recovered, symbols: resume.symbols });
  }

  /**
   * The server's numbering identity. Another one than the numbers tracked
   * so far belong to: those numbers mean nothing now, so every tracked
   * symbol is reset and the snapshot that follows sets the new baseline.
   */
  #checkEpoch(epoch: unknown): void {
    if (typeof epoch !== 'string') return;
    const previous = this.#epoch;
    this.#epoch = epoch;
    if (previous === undefined || previous === epoch) return;
    const old = [...this.#seq];
    this.#seq.clear();
    for (const [symbol, q] of old) {
      this.emit('reset', {
        reason: 'epoch',
        symbol,
        previous: q.n,
        epoch,
        previousEpoch: previous,
      });
    }
  }

  /** The server refused `sent` (an `error` reply): a subscribe's changes are undone. */
  #refused(sent: Sent | undefined): void {
    if (sent === undefined || sent.request.op !== 'subscribe') return;
    if (sent.resume) this.#resumeReplied(false, []);
    for (const s of sent.request.symbols) {
      const had = sent.before?.get(s);
      if (had === undefined) this.#symbols.delete(s);
      else this.#symbols.set(s, had);
    }
    this.#forgetUnwanted();
  }

  /**
   * Forgets sequences no subscription covers any more: a later subscribe
   * starts from its snapshot, which is not a gap.
   */
  #forgetUnwanted(): void {
    for (const s of [...this.#seq.keys()]) if (!this.#wants(s)) this.#seq.delete(s);
  }

  #onUpdate(u: unknown): void {
    if (!isUpdate(u) || !this.#wants(u.s)) return;
    if (this.#track(u, false)) this.emit('update', u);
  }

  /** Sequence bookkeeping; false for a live update the client has already seen. */
  #track(u: Update, fromSnapshot: boolean): boolean {
    const prev = this.#seq.get(u.s);
    const conn = this.#connection;
    if (prev === undefined) {
      this.#seq.set(u.s, { n: u.n, conn });
      return true;
    }
    if (u.n <= prev.n) {
      if (prev.conn === conn || u.n === prev.n) {
        // Already seen (a snapshot entry, or a live update the snapshot covers).
        prev.conn = conn;
        return fromSnapshot;
      }
      // Lower than before a reconnect, from a server that sends no epoch:
      // its sequence started over.
      this.emit('reset', { reason: 'sequence', symbol: u.s, previous: prev.n, got: u.n });
    } else if (u.n > prev.n + 1 && !this.#throttled(u.s)) {
      this.emit('gap', { symbol: u.s, expected: prev.n + 1, got: u.n });
    }
    prev.n = u.n;
    prev.conn = conn;
    return true;
  }
}

function checkSymbol(s: string): string {
  if (s !== ALL_SYMBOLS && !isValidSymbol(s)) {
    throw new TickwireClientError(
      'bad_request',
      `invalid symbol ${JSON.stringify(s)}: use 1-32 characters of [A-Za-z0-9._:/-] or "*"`,
    );
  }
  return s;
}

function checkThrottle(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new TickwireClientError(
      'bad_request',
      `invalid throttle ${String(ms)}: use a whole number of milliseconds >= 0`,
    );
  }
  return ms;
}
