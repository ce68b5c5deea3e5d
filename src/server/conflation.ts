/**
 * The slow-consumer policy, and the delivery of subscriptions that bypass
 * uWS topics (conflated and throttled ones).
 *
 * Each subscriber's queued bytes (uWS backpressure) are checked by the
 * server's periodic sweep and on every `drain`:
 * - past `conflateAt` (high water) the subscriber is conflated: it leaves
 *   its uWS topics (its symbols stay in StreamSocketData), the ledger
 *   records for each symbol the `n` already queued, and from then on it gets
 *   only the latest update per symbol, sent when its queue falls below low
 *   water (half of conflateAt). After a full catch-up pass ends below low
 *   water it rejoins its topics: catch-up and rejoin run synchronously in
 *   one call, so no publish interleaves and `n` stays in order;
 * - past `maxBackpressure`, or conflated with nothing drained for
 *   `stallTimeoutS`, it is closed with 1008 `slow_consumer`.
 * Fast subscribers never leave their topics: same updates, same order.
 *
 * Throttled symbols (`throttle: MS`, see throttle.ts) are not subscribed
 * either; a timer sends their latest updates, paused while the subscriber
 * is conflated. A socket gets its DeliveryState the first time it is
 * throttled or conflated and keeps it; from then on its topics are managed
 * here (detach, change, attach in one synchronous call).
 */
import type { WebSocket } from 'uWebSockets.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import { ALL_JSON_TOPIC, ALL_MSGPACK_TOPIC, topicFor } from '../pipeline/topics.js';
import { ALL_SYMBOLS, CloseCode, ErrorCode } from '../protocol/codes.js';
import type { ServerCore } from './core.js';
import { SentLedger } from './sent-ledger.js';
import type { SocketData, StreamSocketData } from './socket-data.js';
import { Throttle } from './throttle.js';

type StreamSocket = WebSocket<SocketData>;

/** Most conflating connections listed in /stats (the ones with most bytes queued). */
const LISTED = 20;

/** A subscriber's conflation and throttle state, created when first needed. */
export interface DeliveryState {
  /** Connection id, as listed in /stats. */
  readonly id: number;
  readonly ip: string;
  readonly ledger: SentLedger;
  readonly throttle: Throttle;
  conflating: boolean;
  /** performance.now() when conflation began. */
  since: number;
  /** Queued bytes at the last look, and when they last went down. */
  lastBuffered: number;
  lastProgressAt: number;
  /** Where the next catch-up pass starts in its list. */
  cursor: number;
}

/** A conflating connection as listed in /stats. */
export interface ConflatingConnection {
  readonly id: number;
  readonly ip: string;
  readonly queued_bytes: number;
  readonly dropped: number;
  readonly since_s: number;
}

/** `slow_consumers` in /stats. */
export interface SlowConsumerReport {
  /** Subscribers conflated now. */
  readonly conflating_now: number;
  /** Times a subscriber entered conflation. */
  readonly conflated: number;
  /** Updates skipped by conflation or throttle (the sum of the n-gaps sent). */
  readonly dropped: number;
  /** Subscribers closed with 1008 slow_consumer. */
  readonly closed: number;
  /** Conflating connections, most bytes queued first (at most 20). */
  readonly connections: readonly ConflatingConnection[];
}

export class Conflation {
  readonly #core: ServerCore;
  #nextId = 1;

  constructor(core: ServerCore) {
    this.#core = core;
  }

  get #lowWater(): number {
    return Math.floor(this.#core.config.conflateAt / 2);
  }

  /**
   * The periodic check of one socket (the server's sweep): hard limit,
   * entering conflation, catch-up (in case no drain came), stall.
   */
  check(ws: StreamSocket, now: number): void {
    const data = ws.getUserData();
    if (data.kind !== 'stream' || data.closed) return;
    const { maxBackpressure, conflateAt, stallTimeoutS } = this.#core.config;
    const buffered = ws.getBufferedAmount();
    if (buffered > maxBackpressure) {
      this.#close(ws, data, `more than ${maxBackpressure} bytes queued`);
      return;
    }
    const st = data.delivery;
    if (st !== undefined && st.conflating) {
      progress(st, buffered, now);
      if (buffered <= this.#lowWater) ws.cork(() => this.#catchUp(ws, data, st));
      else if (now - st.lastProgressAt > stallTimeoutS * 1000) {
        this.#close(ws, data, `nothing drained for ${stallTimeoutS} s`);
      }
    } else if (buffered > conflateAt) {
      this.#enter(ws, data, buffered, now);
    }
  }

  /** The `drain` handler: progress, and catch-up once below low water. */
  drain(ws: StreamSocket): void {
    const data = ws.getUserData();
    if (data.kind !== 'stream' || data.closed) return;
    const st = data.delivery;
    if (st === undefined || !st.conflating) return;
    const buffered = ws.getBufferedAmount();
    progress(st, buffered, performance.now());
    if (buffered <= this.#lowWater) this.#catchUp(ws, data, st);
  }

  /** The `close` handler: timers stop, the gauge follows. Touches user data only. */
  closed(data: StreamSocketData): void {
    const st = data.delivery;
    if (st === undefined) return;
    st.throttle.stop();
    if (st.conflating) {
      st.conflating = false;
      this.#core.connections.conflatingNow--;
    }
  }

  /**
   * After a `subscribe`'s replies (subscribed, then snapshot or replay) on a
   * socket that is or becomes throttled or conflated: records the request's
   * symbols and throttle (latest wins) and re-arranges topics and timers.
   */
  subscribed(
    ws: StreamSocket,
    data: StreamSocketData,
    symbols: readonly string[],
    throttleMs: number,
  ): void {
    const st = this.#stateOf(ws, data);
    this.#detach(ws, data, st);
    const table = this.#core.pipeline.symbols;
    const wantsAll = symbols.includes(ALL_SYMBOLS);
    // The replies just sent brought the client up to date on these.
    if (wantsAll) for (const e of table.entries) st.ledger.markSynced(e);
    for (const s of symbols) {
      if (s === ALL_SYMBOLS) continue;
      data.symbols.add(s);
      const e = table.get(s);
      if (e !== undefined) st.ledger.markSynced(e);
    }
    if (wantsAll) data.all = true;
    st.throttle.set(symbols, throttleMs);
    this.#attach(ws, data, st);
  }

  /** An `unsubscribe` on a socket with DeliveryState (the caller replies). */
  unsubscribed(ws: StreamSocket, data: StreamSocketData, symbols: readonly string[]): void {
    const st = this.#stateOf(ws, data);
    this.#detach(ws, data, st);
    for (const s of symbols) if (s !== ALL_SYMBOLS) data.symbols.delete(s);
    if (symbols.includes(ALL_SYMBOLS)) data.all = false;
    st.throttle.remove(symbols);
    this.#attach(ws, data, st);
  }

  /** `slow_consumers` for /stats. */
  report(): SlowConsumerReport {
    const now = performance.now();
    const list: ConflatingConnection[] = [];
    for (const ws of this.#core.sockets) {
      const data = ws.getUserData();
      if (data.kind !== 'stream' || data.closed || data.delivery?.conflating !== true) continue;
      const st = data.delivery;
      list.push({
        id: st.id,
        ip: st.ip,
        queued_bytes: ws.getBufferedAmount(),
        dropped: st.ledger.dropped,
        since_s: Math.round((now - st.since) / 100) / 10,
      });
    }
    list.sort((a, b) => b.queued_bytes - a.queued_bytes);
    const c = this.#core.connections;
    return {
      conflating_now: c.conflatingNow,
      conflated: c.slowConsumersConflated,
      dropped: c.updatesDropped,
      closed: c.slowConsumersClosed,
      connections: list.slice(0, LISTED),
    };
  }

  #stateOf(ws: StreamSocket, data: StreamSocketData): DeliveryState {
    if (data.delivery !== undefined) return data.delivery;
    const st: DeliveryState = {
      id: this.#nextId++,
      ip: data.ip,
      ledger: new SentLedger(data.json, this.#core.connections, this.#core.publisher),
      throttle: new Throttle((ms) => this.#tick(ws, data, ms)),
      conflating: false,
      since: 0,
      lastBuffered: 0,
      lastProgressAt: 0,
      cursor: 0,
    };
    data.delivery = st;
    return st;
  }

  #enter(ws: StreamSocket, data: StreamSocketData, buffered: number, now: number): void {
    const st = this.#stateOf(ws, data);
    this.#detach(ws, data, st);
    st.conflating = true;
    st.since = now;
    st.lastBuffered = buffered;
    st.lastProgressAt = now;
    st.cursor = 0;
    this.#core.connections.slowConsumersConflated++;
    this.#core.connections.conflatingNow++;
  }

  /**
   * One catch-up pass: the latest update of each live symbol that advanced,
   * until the queue passes conflateAt; once a full pass ends below low
   * water, the socket rejoins its topics.
   */
  #catchUp(ws: StreamSocket, data: StreamSocketData, st: DeliveryState): void {
    const live = this.#liveEntries(data, st);
    const next = st.ledger.send(ws, live, st.cursor, this.#core.config.conflateAt);
    st.cursor = next < 0 ? 0 : next;
    const buffered = ws.getBufferedAmount();
    st.lastBuffered = buffered;
    if (next >= 0 || buffered > this.#lowWater) return;
    st.conflating = false;
    this.#core.connections.conflatingNow--;
    this.#attach(ws, data, st);
  }

  /** A throttle timer fired: the latest update of each symbol throttled at `ms` that advanced. */
  #tick(ws: StreamSocket, data: StreamSocketData, ms: number): void {
    const st = data.delivery;
    if (data.closed || st === undefined || st.conflating) return;
    const table = this.#core.pipeline.symbols;
    let list: readonly SymbolEntry[];
    if (data.all) list = st.throttle.allMs === ms ? table.entries : [];
    else list = entriesOf(table, st.throttle.namesAt(ms));
    if (list.length === 0) return;
    ws.cork(() => {
      const next = st.ledger.send(ws, list, st.throttle.cursor(ms), this.#core.config.conflateAt);
      st.throttle.setCursor(ms, next < 0 ? 0 : next);
    });
  }

  /**
   * Leaves every topic. Unless conflated (then the ledger is already exact),
   * everything of the live symbols up to now is queued: the ledger says so.
   */
  #detach(ws: StreamSocket, data: StreamSocketData, st: DeliveryState): void {
    // Bus mode: wildcard updates collected this turn must reach the socket
    // before it leaves the topic (the ledger counts them as sent).
    this.#core.pipeline.flushWildcard();
    if (!st.conflating) for (const e of this.#liveEntries(data, st)) st.ledger.markSynced(e);
    for (const topic of ws.getTopics()) ws.unsubscribe(topic);
  }

  /**
   * Starts the throttle timers in use and, unless conflated, sends the
   * latest update of live symbols that advanced while they were not live,
   * then subscribes their topics (the same synchronous call).
   */
  #attach(ws: StreamSocket, data: StreamSocketData, st: DeliveryState): void {
    // Bus mode: collected wildcard updates are in the last-value cache already.
    this.#core.pipeline.flushWildcard();
    st.throttle.sync(data.all);
    if (st.conflating) return;
    st.ledger.send(ws, this.#liveEntries(data, st), 0, Number.POSITIVE_INFINITY);
    const json = data.json;
    if (data.all) {
      if (st.throttle.allMs === 0) ws.subscribe(json ? ALL_JSON_TOPIC : ALL_MSGPACK_TOPIC);
      return;
    }
    const format = json ? 'json' : 'msgpack';
    for (const s of data.symbols) if (st.throttle.msFor(s) === 0) ws.subscribe(topicFor(s, format));
  }

  /** Entries of the symbols this socket gets live (not throttled) that have had an update. */
  #liveEntries(data: StreamSocketData, st: DeliveryState): readonly SymbolEntry[] {
    const table = this.#core.pipeline.symbols;
    if (data.all) return st.throttle.allMs === 0 ? table.entries : [];
    const names: string[] = [];
    for (const s of data.symbols) if (st.throttle.msFor(s) === 0) names.push(s);
    return entriesOf(table, names);
  }

  #close(ws: StreamSocket, data: StreamSocketData, why: string): void {
    data.closed = true;
    this.#core.connections.slowConsumersClosed++;
    ws.end(CloseCode.PolicyViolation, `${ErrorCode.SlowConsumer}: ${why}`);
  }
}

function progress(st: DeliveryState, buffered: number, now: number): void {
  if (buffered < st.lastBuffered) st.lastProgressAt = now;
  st.lastBuffered = buffered;
}

function entriesOf(
  table: { get(name: string): SymbolEntry | undefined },
  names: readonly string[],
): SymbolEntry[] {
  const out: SymbolEntry[] = [];
  for (const s of names) {
    const e = table.get(s);
    if (e !== undefined && e.seq > 0) out.push(e);
  }
  return out;
}
