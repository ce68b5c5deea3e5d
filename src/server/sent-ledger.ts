/**
 * What one subscriber has been sent of each symbol, for the deliveries that
 * bypass uWS topics (conflation and throttle): per symbol, the sequence
 * number `n` of the last update queued for it, and a sender of "the latest
 * update of every symbol that advanced since".
 *
 * The latest update comes from the last-value cache (SymbolEntry.last, the
 * exact bytes live subscribers got; JSON connections get updateToJson of
 * them), so nothing is kept per update. Each send counts the n-gap it leaves
 * (updates the client will never see) as dropped, per connection and
 * globally. Updates are gathered into array frames of up to FRAME_BYTES, as
 * the pipeline's wildcard frames, so a client handles them the same way.
 *
 * Storage, by symbol id (SymbolEntry.id): a Map while the subscriber has few
 * symbols, a Float64Array indexed by id once that is smaller. A Map keyed by
 * SymbolEntry took about 40 bytes per symbol, 4 MB per "*" subscriber at
 * 100,000 symbols; the array takes 8 bytes per symbol of the table.
 *
 * Entries of symbols never recorded read as 0: nothing of them was sent.
 */
import type { WebSocket } from 'uWebSockets.js';
import { updateToJson } from '../pipeline/pipeline.js';
import type { SymbolEntry } from '../pipeline/symbol-table.js';
import type { SocketData } from './socket-data.js';

/** Update bytes gathered into one frame before it is sent. */
const FRAME_BYTES = 64 * 1024;
/** Largest MessagePack array header. */
const ARRAY_HEADER = 5;
/** Bytes a Map entry costs (measured: about 40), against 8 in the dense array. */
const MAP_ENTRY_BYTES = 40;
const DENSE_ENTRY_BYTES = 8;
/** Smallest dense array, in entries. */
const DENSE_MIN = 1024;

/** Where the global figures go (ConnectionCounts and UwsPublisher fit). */
export interface LedgerTotals {
  /** Updates skipped by conflation or throttle, over all connections. */
  updatesDropped: number;
}
export interface DeliveryTotals {
  /** Updates handed to subscriber sockets (as counted for /stats/stream rates). */
  deliveries: number;
}

export class SentLedger {
  readonly #json: boolean;
  /** id -> n, until the dense array is smaller. */
  #sparse: Map<number, number> | undefined = new Map();
  /** Highest id in #sparse. */
  #maxId = -1;
  /** n by id, once it is smaller than the Map. */
  #dense: Float64Array | undefined;
  readonly #totals: LedgerTotals;
  readonly #deliveries: DeliveryTotals;
  readonly #chunk: SymbolEntry[] = [];
  /** Updates this connection skipped: the sum of the n-gaps it was sent. */
  dropped = 0;

  constructor(json: boolean, totals: LedgerTotals, deliveries: DeliveryTotals) {
    this.#json = json;
    this.#totals = totals;
    this.#deliveries = deliveries;
  }

  /** `n` of the last update of `entry` queued for this subscriber (0: none). */
  sentOf(entry: SymbolEntry): number {
    return this.#read(entry.id);
  }

  /** Records that everything of `entry` up to its current `n` is queued. */
  markSynced(entry: SymbolEntry): void {
    if (entry.seq > 0) this.#set(entry.id, entry.seq);
  }

  /** Bytes this ledger's storage takes, about (for tests and diagnostics). */
  get bytes(): number {
    return this.#dense === undefined
      ? this.#sparse!.size * MAP_ENTRY_BYTES
      : this.#dense.length * DENSE_ENTRY_BYTES;
  }

  #set(id: number, n: number): void {
    let dense = this.#dense;
    if (dense === undefined) {
      const sparse = this.#sparse!;
      sparse.set(id, n);
      if (id > this.#maxId) this.#maxId = id;
      // Switch once the array would be smaller than the Map.
      if (sparse.size * MAP_ENTRY_BYTES < (this.#maxId + 1) * DENSE_ENTRY_BYTES) return;
      dense = this.#grow(new Float64Array(0), this.#maxId);
      for (const [k, v] of sparse) dense[k] = v;
      this.#sparse = undefined;
      this.#dense = dense;
      return;
    }
    if (id >= dense.length) this.#dense = dense = this.#grow(dense, id);
    dense[id] = n;
  }

  /** A copy of `dense` long enough for `id` (doubling, so growth is amortised). */
  #grow(dense: Float64Array, id: number): Float64Array {
    let length = Math.max(DENSE_MIN, dense.length);
    while (length <= id) length *= 2;
    const out = new Float64Array(length);
    out.set(dense);
    return out;
  }

  /**
   * Sends the latest update of each entry of `list` whose `n` advanced past
   * what was sent, visiting the list from index `from` round to `from - 1`.
   * Stops once the socket's queue passes `budget` bytes after a frame, and
   * returns the index to resume from next time; -1 when every entry was
   * visited. Synchronous: no publish can interleave, so `n` stays in order.
   */
  send(
    ws: WebSocket<SocketData>,
    list: readonly SymbolEntry[],
    from: number,
    budget: number,
  ): number {
    const count = list.length;
    if (count === 0) return -1;
    const start = from % count;
    const chunk = this.#chunk;
    let bytes = 0;
    for (let k = 0; k < count; k++) {
      const i = (start + k) % count;
      const e = list[i]!;
      const seq = e.seq;
      if (seq === 0) continue;
      const id = e.id;
      const last = this.#read(id);
      if (seq <= last) continue;
      const gap = seq - last - 1;
      this.dropped += gap;
      this.#totals.updatesDropped += gap;
      this.#set(id, seq);
      chunk.push(e);
      bytes += e.last.length;
      if (bytes >= FRAME_BYTES) {
        this.#flush(ws, bytes);
        bytes = 0;
        if (k < count - 1 && ws.getBufferedAmount() > budget) return (i + 1) % count;
      }
    }
    if (chunk.length > 0) this.#flush(ws, bytes);
    return -1;
  }

  #read(id: number): number {
    const dense = this.#dense;
    if (dense !== undefined) return id < dense.length ? dense[id]! : 0;
    return this.#sparse!.get(id) ?? 0;
  }

  /** Sends the gathered updates as one frame (a map alone, else an array). */
  #flush(ws: WebSocket<SocketData>, bytes: number): void {
    const chunk = this.#chunk;
    const count = chunk.length;
    this.#deliveries.deliveries += count;
    if (this.#json) {
      const text =
        count === 1
          ? updateToJson(chunk[0]!.last)
          : `[${chunk.map((e) => updateToJson(e.last)).join(',')}]`;
      chunk.length = 0;
      ws.send(text, false);
      return;
    }
    if (count === 1) {
      const only = chunk[0]!;
      chunk.length = 0;
      // uWS copies the bytes before returning.
      ws.send(only.last, true);
      return;
    }
    const out = new Uint8Array(ARRAY_HEADER + bytes);
    let w = writeArrayHeader(out, count);
    for (const e of chunk) {
      out.set(e.last, w);
      w += e.last.length;
    }
    chunk.length = 0;
    ws.send(out.subarray(0, w), true);
  }
}

function writeArrayHeader(out: Uint8Array, n: number): number {
  if (n < 16) {
    out[0] = 0x90 | n;
    return 1;
  }
  if (n < 0x10000) {
    out[0] = 0xdc;
    out[1] = n >>> 8;
    out[2] = n & 0xff;
    return 3;
  }
  out[0] = 0xdd;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  return 5;
}
