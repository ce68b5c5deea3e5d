/**
 * StreamClient: subscribes on /stream and emits typed events. Tracks each
 * symbol's sequence number `n`: snapshot entries set the baseline, a jump
 * forward is a `gap`, a jump back after a reconnect (a restarted server) is a
 * `reset`, and live updates already covered by the snapshot are dropped.
 * Subscriptions are re-sent after every reconnect.
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
import { Connection, type ConnectionOptions, State } from './connection.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, TickwireClientError } from './errors.js';

export type StreamFormat = 'msgpack' | 'json';

export interface StreamClientOptions extends ConnectionOptions {
  /** The stream token, when the server requires one. */
  readonly token?: string;
  /** Wire format of the server's messages. Default `msgpack`. */
  readonly format?: StreamFormat;
  /** Symbols to subscribe to at once (`"*"` = all). */
  readonly symbols?: readonly string[];
  /** How long ping() waits for its pong. Default 10 000 ms. */
  readonly pingTimeoutMs?: number;
  /**
   * After a reconnect, resubscribe with `since` (the last n seen per symbol)
   * so the server replays what was missed. Default true. Skipped when more
   * than MAX_SINCE_SYMBOLS symbols are tracked (the request would outgrow the
   * server's control-frame limit); the snapshot then resyncs as before.
   */
  readonly recover?: boolean;
}

/** Most symbols a resume request lists in `since` (about 30 bytes each). */
export const MAX_SINCE_SYMBOLS = 400;

/** The outcome of a resubscribe after a reconnect. */
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

/** `symbol`'s sequence went back (the server restarted): `previous` was the last n seen. */
export interface Reset {
  readonly symbol: string;
  readonly previous: number;
  readonly got: number;
}

export interface StreamClientEvents {
  update: Update;
  snapshot: readonly Update[];
  subscribed: SubscribedMessage;
  unsubscribed: UnsubscribedMessage;
  gap: Gap;
  reset: Reset;
  resumed: Resumed;
  error: TickwireClientError;
  state: State;
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

function isUpdate(v: unknown): v is Update {
  return isRecord(v) && typeof v.s === 'string' && typeof v.n === 'number';
}

export class StreamClient extends Emitter<StreamClientEvents> {
  readonly #conn: Connection;
  readonly #format: StreamFormat;
  readonly #pingTimeoutMs: number;
  readonly #symbols = new Set<string>();
  readonly #seq = new Map<string, Seq>();
  readonly #pings = new Map<number, PendingPing>();
  #connection = 0;
  #nextPingId = 1;
  readonly #recover: boolean;
  /** A resubscribe with `since` is waiting for its `subscribed` reply. */
  #resuming = false;
  /**
   * Requests sent on this connection and not answered yet, oldest first. The
   * server answers every control message with exactly one reply, in order
   * (`subscribed`, `unsubscribed`, `pong` or `error`), so an `error` answers
   * the oldest: a refused subscribe's symbols are forgotten, so that
   * subscribe() can ask for them again.
   */
  #requests: ControlRequest[] = [];

  constructor(options: StreamClientOptions) {
    super();
    this.#format = options.format ?? 'msgpack';
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
    this.#recover = options.recover ?? true;
    for (const s of options.symbols ?? []) this.#symbols.add(checkSymbol(s));
    this.#conn = new Connection(options, '/stream', options.token, {
      query: (): Record<string, string> => (this.#format === 'json' ? { format: 'json' } : {}),
      opened: () => {
        this.#connection++;
        this.#requests = [];
        this.#resuming = false;
        if (this.#symbols.size > 0) this.#resubscribe();
      },
      message: (data) => this.#onMessage(data),
      lost: () => this.#rejectPings(),
      state: (s) => this.emit('state', s),
      error: (e) => this.emit('error', e),
    });
  }

  get state(): State {
    return this.#conn.state;
  }

  /** Subscribes again after a reconnect, with `since` when recovery is possible. */
  #resubscribe(): void {
    const symbols = [...this.#symbols];
    if (this.#connection > 1 && this.#recover && this.#seq.size > 0) {
      if (this.#seq.size <= MAX_SINCE_SYMBOLS) {
        const since: Record<string, number> = {};
        for (const [s, q] of this.#seq) since[s] = q.n;
        this.#resuming = true;
        this.#send({ op: 'subscribe', symbols, since });
        return;
      }
    }
    this.#send({ op: 'subscribe', symbols });
  }

  /** The symbols subscribed to (re-sent after each reconnect). */
  get symbols(): readonly string[] {
    return [...this.#symbols];
  }

  /** The last sequence number seen for `symbol`. */
  lastSeq(symbol: string): number | undefined {
    return this.#seq.get(symbol)?.n;
  }

  subscribe(symbols: readonly string[]): void {
    const added = symbols.map(checkSymbol).filter((s) => !this.#symbols.has(s));
    if (added.length === 0) return;
    for (const s of added) this.#symbols.add(s);
    this.#send({ op: 'subscribe', symbols: added });
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

  #wants(symbol: string): boolean {
    return this.#symbols.has(ALL_SYMBOLS) || this.#symbols.has(symbol);
  }

  #send(msg: ControlRequest): boolean {
    const ws = this.#conn.socket;
    if (ws === undefined) return false;
    ws.send(this.#format === 'json' ? JSON.stringify(msg) : new Uint8Array(packr.pack(msg)));
    this.#requests.push(msg);
    return true;
  }

  #rejectPings(): void {
    for (const p of this.#pings.values()) {
      clearTimeout(p.timer);
      p.reject(new TickwireClientError(ClientErrorCode.ConnectionLost, 'connection lost'));
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
      case 'subscribed':
        this.#requests.shift();
        this.emit('subscribed', msg as unknown as SubscribedMessage);
        if (this.#resuming && typeof msg.recovered === 'boolean') {
          this.#resuming = false;
          this.emit('resumed', {
            recovered: msg.recovered,
            symbols: (msg as unknown as SubscribedMessage).symbols,
          });
        }
        return;
      case 'unsubscribed':
        this.#requests.shift();
        this.emit('unsubscribed', msg as unknown as UnsubscribedMessage);
        return;
      case 'snapshot': {
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

  /** The server refused `request` (an `error` reply): a subscribe's symbols are not subscribed. */
  #refused(request: ControlRequest | undefined): void {
    if (request?.op !== 'subscribe') return;
    if (request.since !== undefined) this.#resuming = false;
    for (const s of request.symbols) this.#symbols.delete(s);
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
      // Lower than before a reconnect: the server's sequence started over.
      this.emit('reset', { symbol: u.s, previous: prev.n, got: u.n });
    } else if (u.n > prev.n + 1) {
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
