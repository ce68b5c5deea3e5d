/**
 * The slow-consumer policy, and the delivery of subscriptions that bypass
 * uWS topics (conflated and throttled ones). Each subscriber's queued bytes
 * are checked by the server's periodic sweep and on every `drain`:
 * - past `conflateAt` it is conflated: it leaves its topics, the ledger
 *   records the `n` of each symbol already queued, and it gets only the
 *   latest update per symbol once its queue is below low water (half of
 *   conflateAt). A full catch-up pass below low water rejoins the topics in
 *   the same synchronous call, so no publish interleaves and `n` stays in order;
 * - past `maxBackpressure` (plus a snapshot or replay it asked for, while
 *   that drains), or conflated and not draining for `stallTimeoutS`, it is
 *   closed as a slow consumer (#startClose).
 * Fast subscribers never leave their topics: same updates, same order.
 *
 * Throttled symbols (throttle.ts) are not subscribed either; a timer per
 * group sends their latest updates, paused while conflated. A socket gets
 * its DeliveryState the first time it is throttled or conflated; from then
 * on its topics are managed here, and a request changes only the topics of
 * the symbols it names (re-subscribing 10,000 topics per 40-byte request
 * was a DoS). Leaving a topic never drops the updates uWS still holds for
 * the socket this turn (HOLD_TOPIC, uws-publisher.ts): the ledger may count
 * them as sent.
 */
import type { WebSocket } from 'uWebSockets.js';
import { NONE } from '../pipeline/change-log.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import { ALL_JSON_TOPIC, ALL_MSGPACK_TOPIC, topicFor } from '../pipeline/topics.js';
import { ALL_SYMBOLS, CloseCode, ErrorCode } from '../protocol/codes.js';
import type { ServerCore } from './core.js';
import { SentLedger } from './sent-ledger.js';
import type { DeliveryState, SocketData, StreamSocketData } from './socket-data.js';
import { Throttle, quantiseThrottle } from './throttle.js';

type StreamSocket = WebSocket<SocketData>;

/** Most conflating connections listed in /stats (the ones with most bytes queued). */
const LISTED = 20;

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
  /** Reused list of entries for one send (filled and emptied within a call). */
  readonly #scratch: SymbolEntry[] = [];
  #nextId = 1;
  /** Symbols the throttle passes looked at (see throttleVisits). */
  #throttleVisits = 0;
  /** A throttle pass's send, handed to ws.cork through these (no closure per tick). */
  #passWs: StreamSocket | undefined;
  #passLedger: SentLedger | undefined;
  #passFrom = 0;
  #passNext = -1;
  readonly #passSend = (): void => {
    this.#passNext = this.#passLedger!.send(
      this.#passWs!,
      this.#scratch,
      this.#passFrom,
      this.#core.config.conflateAt,
    );
  };

  constructor(core: ServerCore) {
    this.#core = core;
  }

  /**
   * Symbols the throttle passes looked at, in all (for tests and
   * diagnostics): it grows with the symbols that changed, not with the table.
   */
  get throttleVisits(): number {
    return this.#throttleVisits;
  }

  get #lowWater(): number {
    return Math.floor(this.#core.config.conflateAt / 2);
  }

  /** The sweep's check of one socket: limits, conflation, catch-up, stall, closing. */
  check(ws: StreamSocket, now: number): void {
    const data = ws.getUserData();
    if (data.kind !== 'stream' || data.closed) return;
    const buffered = ws.getBufferedAmount();
    if (data.closing !== undefined) {
      this.#finishClose(ws, data, buffered, now);
      return;
    }
    const { maxBackpressure, conflateAt, stallTimeoutS } = this.#core.config;
    // A snapshot or replay may take the queue past the limit once; it stops
    // counting once the queue is back under the limit.
    if (buffered <= maxBackpressure) data.replyAllowance = 0;
    else if (buffered > maxBackpressure + data.replyAllowance) {
      this.#startClose(ws, data, `more than ${maxBackpressure} bytes queued`, now);
      return;
    }
    const st = data.delivery;
    if (st !== undefined && st.conflating) {
      progress(st, buffered, now);
      if (buffered <= this.#lowWater) ws.cork(() => this.#catchUp(ws, data, st));
      else if (now - st.lastProgressAt > stallTimeoutS * 1000) {
        this.#startClose(ws, data, `nothing drained for ${stallTimeoutS} s`, now);
      }
    } else if (buffered > conflateAt) {
      this.#enter(ws, data, buffered, now);
    }
  }

  /** The `drain` handler: progress, and catch-up once below low water. */
  drain(ws: StreamSocket): void {
    const data = ws.getUserData();
    if (data.kind !== 'stream' || data.closed) return;
    const buffered = ws.getBufferedAmount();
    if (data.closing !== undefined) {
      this.#finishClose(ws, data, buffered, performance.now());
      return;
    }
    const st = data.delivery;
    if (st === undefined || !st.conflating) return;
    progress(st, buffered, performance.now());
    if (buffered <= this.#lowWater) this.#catchUp(ws, data, st);
  }

  /** The `close` handler: timers stop, the gauge follows. Touches user data only. */
  closed(data: StreamSocketData): void {
    const st = data.delivery;
    if (st === undefined) return;
    st.throttle.stop();
    this.#stopConflating(st);
  }

  /**
   * After a `subscribe`'s replies, on a socket that is or becomes throttled or conflated:
   * the request's symbols and throttle (latest wins), their topics and timers only.
   */
  subscribed(
    ws: StreamSocket,
    data: StreamSocketData,
    symbols: readonly string[],
    requestedMs: number,
  ): void {
    const st = this.#stateOf(ws, data);
    const ms = quantiseThrottle(requestedMs);
    const table = this.#core.pipeline.symbols;
    const wantsAll = symbols.includes(ALL_SYMBOLS);
    // Named topics are in use only without "*" and while not conflated.
    const namedTopics = !data.all && !wantsAll && !st.conflating;
    // The replies just sent brought the client up to date on these.
    if (wantsAll) for (const e of table.entries) st.ledger.markSynced(e);
    for (const s of symbols) {
      if (s === ALL_SYMBOLS) continue;
      const e = table.get(s);
      if (e !== undefined) st.ledger.markSynced(e);
      const wasLive = data.symbols.has(s) && st.throttle.msFor(s) === 0;
      data.symbols.add(s);
      st.throttle.setNamed(s, ms);
      if (!namedTopics || wasLive === (ms === 0)) continue;
      if (ms === 0) ws.subscribe(symbolTopic(data, s));
      else ws.unsubscribe(symbolTopic(data, s));
    }
    if (wantsAll) this.#holdAll(ws, data, st, ms);
  }

  /** An `unsubscribe` on a socket with DeliveryState (the caller replies). */
  unsubscribed(ws: StreamSocket, data: StreamSocketData, symbols: readonly string[]): void {
    const st = this.#stateOf(ws, data);
    const namedTopics = !data.all && !st.conflating;
    for (const s of symbols) {
      if (s === ALL_SYMBOLS || !data.symbols.delete(s)) continue;
      const live = st.throttle.msFor(s) === 0;
      st.throttle.removeNamed(s);
      if (namedTopics && live) ws.unsubscribe(symbolTopic(data, s));
    }
    if (data.all && symbols.includes(ALL_SYMBOLS)) this.#releaseAll(ws, data, st);
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
    const core = this.#core;
    const st: DeliveryState = {
      id: this.#nextId++,
      ip: data.ip,
      ledger: new SentLedger(data.json, core.connections, core.publisher),
      throttle: new Throttle((ms) => this.#tick(ws, data, ms), core.pipeline.changes),
      conflating: false,
      since: 0,
      lastBuffered: 0,
      lastProgressAt: 0,
      cursor: 0,
    };
    // A socket that joined "*" live before it needed this state (the plain
    // subscribe path): its throttle starts out holding "*", or a named
    // throttle would tick and send what "*" delivers already.
    if (data.all) st.throttle.holdAll(0);
    data.delivery = st;
    return st;
  }

  /** A subscribe with "*" (throttle `ms`, quantised): the socket listens on "*" only. */
  #holdAll(ws: StreamSocket, data: StreamSocketData, st: DeliveryState, ms: number): void {
    const wasAll = data.all;
    const wasLive = wasAll && st.throttle.allMs === 0;
    data.all = true;
    st.throttle.holdAll(ms);
    if (st.conflating) return;
    // Join the new topic before leaving the old ones.
    if (ms === 0 && !wasLive) ws.subscribe(allTopic(data));
    else if (ms > 0 && wasLive) ws.unsubscribe(allTopic(data));
    if (!wasAll) for (const s of data.symbols) ws.unsubscribe(symbolTopic(data, s));
  }

  /**
   * "*" dropped: named symbols go by their own topics and throttles again. The client has
   * all of them so far if "*" was live, else what the ledger says (live ones: latest first).
   */
  #releaseAll(ws: StreamSocket, data: StreamSocketData, st: DeliveryState): void {
    // This turn's held updates (turn-batcher.ts) go out before the socket leaves "*".
    this.#core.pipeline.flush();
    const wasLive = st.throttle.allMs === 0;
    data.all = false;
    st.throttle.releaseAll();
    // Conflated: the ledger is exact already and catch-up rejoins the topics.
    if (st.conflating) return;
    if (wasLive) {
      const table = this.#core.pipeline.symbols;
      for (const s of data.symbols) {
        const e = table.get(s);
        if (e !== undefined) st.ledger.markSynced(e);
      }
    } else {
      st.ledger.send(ws, this.#liveEntries(data, st), 0, Number.POSITIVE_INFINITY);
      this.#scratch.length = 0;
    }
    this.#joinTopics(ws, data, st);
    if (wasLive) ws.unsubscribe(allTopic(data));
  }

  #enter(ws: StreamSocket, data: StreamSocketData, buffered: number, now: number): void {
    const st = this.#stateOf(ws, data);
    // Updates held for the end of this turn reach the socket before it
    // leaves its topics (the ledger counts them as sent).
    this.#core.pipeline.flush();
    for (const e of this.#liveEntries(data, st)) st.ledger.markSynced(e);
    this.#scratch.length = 0;
    this.#leaveTopics(ws, data);
    st.conflating = true;
    st.since = now;
    st.lastBuffered = buffered;
    st.lastProgressAt = now;
    st.cursor = 0;
    this.#core.connections.slowConsumersConflated++;
    this.#core.connections.conflatingNow++;
  }

  /**
   * One catch-up pass: the latest update of each live symbol that advanced, until the
   * queue passes conflateAt; a full pass ending below low water rejoins the topics.
   */
  #catchUp(ws: StreamSocket, data: StreamSocketData, st: DeliveryState): void {
    // Held updates go out to the topics first: the pass below sends their
    // latest values and may rejoin the topics, which must not get them again.
    this.#core.pipeline.flush();
    const live = this.#liveEntries(data, st);
    const next = st.ledger.send(ws, live, st.cursor, this.#core.config.conflateAt);
    this.#scratch.length = 0;
    st.cursor = next < 0 ? 0 : next;
    const buffered = ws.getBufferedAmount();
    st.lastBuffered = buffered;
    if (next >= 0 || buffered > this.#lowWater) return;
    this.#stopConflating(st);
    this.#joinTopics(ws, data, st);
  }

  /**
   * A throttle timer fired: the latest update of each symbol of its group
   * that advanced. Only symbols changed since the group's last complete pass
   * can have: the pass looks at those (walking the ChangeLog back to the
   * group's stamp), or at the group's names when they are fewer than the
   * updates since. A pass that stopped early (the queue past conflateAt)
   * keeps its stamp, so the next one covers what it left.
   */
  #tick(ws: StreamSocket, data: StreamSocketData, ms: number): void {
    const st = data.delivery;
    if (data.closed || data.closing !== undefined || st === undefined || st.conflating) return;
    const group = st.throttle.groupAt(ms);
    if (group === undefined) return;
    const changes = this.#core.pipeline.changes;
    const clock = changes.clock;
    if (group.stamp === clock) return;
    const list = this.#scratch;
    // At most one changed symbol per update since the stamp.
    const byNames = !data.all && group.names.size <= clock - group.stamp;
    if (byNames) {
      const table = this.#core.pipeline.symbols;
      for (const s of group.names) {
        const e = table.get(s);
        if (e !== undefined && e.seq > 0) list.push(e);
      }
      this.#throttleVisits += group.names.size;
    } else {
      this.#changedSince(group.stamp, data.all ? undefined : group.names);
    }
    let next = -1;
    if (list.length > 0) {
      this.#passWs = ws;
      this.#passLedger = st.ledger;
      this.#passFrom = byNames ? group.cursor : 0;
      ws.cork(this.#passSend);
      next = this.#passNext;
      this.#passWs = undefined;
      this.#passLedger = undefined;
      list.length = 0;
    }
    if (next >= 0) {
      if (byNames) group.cursor = next;
      return;
    }
    group.cursor = 0;
    group.stamp = clock;
  }

  /**
   * Fills #scratch with the entries changed after `stamp` (of `names` only,
   * when given), the least recently changed first: a pass that stops early
   * has sent the ones waiting longest.
   */
  #changedSince(stamp: number, names: ReadonlySet<string> | undefined): void {
    const changes = this.#core.pipeline.changes;
    const entries = this.#core.pipeline.symbols.entries;
    const list = this.#scratch;
    let visits = 0;
    for (
      let id = changes.newest;
      id !== NONE && changes.stampOf(id) > stamp;
      id = changes.older(id)
    ) {
      visits++;
      const e = entries[id]!;
      if (names === undefined || names.has(e.name)) list.push(e);
    }
    list.reverse();
    this.#throttleVisits += visits;
  }

  /** Joins the topics of what is live: "*" or the named symbols not throttled. */
  #joinTopics(ws: StreamSocket, data: StreamSocketData, st: DeliveryState): void {
    if (data.all) {
      if (st.throttle.allMs === 0) ws.subscribe(allTopic(data));
    } else {
      for (const s of data.symbols)
        if (st.throttle.msFor(s) === 0) ws.subscribe(symbolTopic(data, s));
    }
  }

  /** Leaves the topics in use: "*" or the named ones (a no-op for those not held). */
  #leaveTopics(ws: StreamSocket, data: StreamSocketData): void {
    if (data.all) ws.unsubscribe(allTopic(data));
    else for (const s of data.symbols) ws.unsubscribe(symbolTopic(data, s));
  }

  /** Entries of the live symbols: the table's list for live "*", else #scratch (caller empties). */
  #liveEntries(data: StreamSocketData, st: DeliveryState): readonly SymbolEntry[] {
    const table = this.#core.pipeline.symbols;
    if (data.all) return st.throttle.allMs === 0 ? table.entries : this.#scratch;
    const scratch = this.#scratch;
    for (const s of data.symbols) {
      if (st.throttle.msFor(s) !== 0) continue;
      const e = table.get(s);
      if (e !== undefined && e.seq > 0) scratch.push(e);
    }
    return scratch;
  }

  #stopConflating(st: DeliveryState): void {
    if (!st.conflating) return;
    st.conflating = false;
    this.#core.connections.conflatingNow--;
  }

  /**
   * A slow consumer is closed in two steps, so that its connection slot is
   * held as long as its queued bytes: uWS keeps a queue for about 15 s after
   * `end()`, so ending at once freed the slot while up to maxBackpressure +
   * 16 MiB stayed, again and again. It stops receiving and is counted at
   * once; with its queue small it gets 1008 slow_consumer after its data;
   * not drained that far within stallTimeoutS, the frame could not reach it
   * anyway: close() drops the TCP connection and frees the queue at once.
   */
  #startClose(ws: StreamSocket, data: StreamSocketData, why: string, now: number): void {
    data.closing = { since: now, reason: `${ErrorCode.SlowConsumer}: ${why}` };
    this.#core.connections.slowConsumersClosed++;
    this.#leaveTopics(ws, data);
    const st = data.delivery;
    if (st !== undefined) {
      st.throttle.stop();
      this.#stopConflating(st);
    }
    this.#finishClose(ws, data, ws.getBufferedAmount(), now);
  }

  #finishClose(ws: StreamSocket, data: StreamSocketData, buffered: number, now: number): void {
    const closing = data.closing!;
    const { maxBackpressure, stallTimeoutS } = this.#core.config;
    if (buffered <= Math.min(this.#lowWater, Math.floor(maxBackpressure / 2))) {
      ws.end(CloseCode.PolicyViolation, closing.reason);
    } else if (now - closing.since >= stallTimeoutS * 1000) {
      ws.close();
    }
  }
}

function allTopic(data: StreamSocketData): string {
  return data.json ? ALL_JSON_TOPIC : ALL_MSGPACK_TOPIC;
}

function symbolTopic(data: StreamSocketData, symbol: string): string {
  return topicFor(symbol, data.json ? 'json' : 'msgpack');
}

function progress(st: DeliveryState, buffered: number, now: number): void {
  if (buffered < st.lastBuffered) st.lastProgressAt = now;
  st.lastBuffered = buffered;
}
