/**
 * The global byte budget of the recovery history (`--history-bytes`).
 *
 * Every symbol's UpdateHistory reports the bytes it holds (its ring, its
 * per-slot bookkeeping, the updates it stores out of line) here; when the total goes over the limit,
 * the oldest updates across all symbols are evicted until it is back under.
 * Without it, memory grew with symbols × --history × update size: 400
 * symbols × 110 updates of ~32 KB took 1.3 GB and kept it, and the defaults
 * (100,000 symbols × 100 updates of up to 33 KB) allowed hundreds of GB.
 *
 * Which update is oldest: every store appends (history, n) to a FIFO, so the
 * head of the FIFO, once records of updates no longer held are skipped, names
 * the history holding the oldest update of all. That is exact and O(1)
 * amortised per store: the FIFO is compacted (records of updates no longer
 * held dropped) when it fills, and grown only when more than half of it is
 * still live, so it stays within twice the updates held (8 bytes each,
 * counted in the budget).
 *
 * What an eviction frees (see UpdateHistory.evictOldest): an update stored
 * out of line (longer than 512 bytes) is released by itself. An update in a
 * ring shares the ring's buffer, which can only be given back whole: the
 * ring is halved, keeping its newer half (and its stride shrinks to what the
 * updates kept need). So memory is released in exact global age order for
 * long updates, and half a symbol's ring at a time, starting with the symbol
 * whose oldest update is the oldest, for short ones. A full ring grows only
 * when that fits, or can be made to fit without trading halves of rings
 * back and forth (see roomToGrow); otherwise it drops its own oldest.
 *
 * The last update of each symbol (the snapshot, the last-value cache) is
 * never evicted; its bytes count, so a budget smaller than the last values
 * of all symbols stays exceeded by them (and each new update of a symbol
 * then evicts the one before it).
 */

/** What the budget needs of a symbol's history. */
export interface Evictable {
  /** Whether the update numbered `seq32` (n as a signed 32-bit integer, `n | 0`) is held. */
  holds(seq32: number): boolean;
  /**
   * Frees memory, starting with the oldest update held; false when nothing
   * but the last value is left (then nothing is freed).
   */
  evictOldest(): boolean;
  /**
   * The stamp (see `stored`) of the oldest update still held after
   * evictOldest halves the ring; -Infinity when evictOldest would release an
   * out-of-line update or only unused slots (nothing to trade back later);
   * Infinity when only the last value is left.
   */
  keptStamp(): number;
}

const INITIAL_QUEUE = 1024;
/**
 * Bytes per FIFO record: a history index and n, both Int32 (n | 0: compared
 * modulo 2^32, see UpdateHistory.holds; Uint32 values past 2^31 made V8 box
 * a number per record checked: 16 bytes allocated per store).
 */
const RECORD_BYTES = 8;

export class HistoryBudget {
  /** Most bytes all histories may hold (Infinity: unbounded). */
  readonly limit: number;
  /** Whether there is a limit (then stores are recorded in age order). */
  readonly bounded: boolean;
  #bytes = 0;
  #evicted = 0;
  readonly #members: Evictable[] = [];
  /** The FIFO of stores: history index and n, from #head to #tail. */
  #ids: Int32Array;
  #seqs: Int32Array;
  #head = 0;
  #tail = 0;
  /** Stores so far: each store's stamp, its age order. */
  #clock = 0;

  constructor(limit = Number.POSITIVE_INFINITY) {
    if (!(limit >= 0)) throw new RangeError(`history budget must be >= 0, got ${limit}`);
    this.limit = limit;
    this.bounded = Number.isFinite(limit);
    const records = this.bounded ? INITIAL_QUEUE : 0;
    this.#ids = new Int32Array(records);
    this.#seqs = new Int32Array(records);
    this.#bytes = records * RECORD_BYTES;
  }

  /** Bytes held by all histories (rings, out-of-line updates) and this budget's FIFO. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes of the FIFO of stores (part of `bytes`). */
  get queueBytes(): number {
    return this.#ids.length * RECORD_BYTES;
  }

  /** Updates evicted to keep within the limit, since start. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Whether more than `limit` bytes are held. */
  get over(): boolean {
    return this.#bytes > this.limit;
  }

  /** Adds a history; returns its index, to pass to `stored`. */
  register(member: Evictable): number {
    this.#members.push(member);
    return this.#members.length - 1;
  }

  /** A history's bytes changed by `delta`. */
  resize(delta: number): void {
    this.#bytes += delta;
  }

  /** A history dropped `count` updates to free memory (counted as evictions). */
  countEvicted(count: number): void {
    this.#evicted += count;
  }

  /**
   * History `id` stored update `seq` (call only when bounded): records it
   * (two typed-array writes) and returns its stamp, which grows with every
   * store (an update with a smaller stamp is older).
   */
  stored(id: number, seq: number): number {
    if (this.#tail === this.#ids.length) this.#compact();
    this.#ids[this.#tail] = id;
    this.#seqs[this.#tail] = seq;
    this.#tail++;
    return ++this.#clock;
  }

  /**
   * A full ring would grow by `delta` bytes. True when that fits: at once,
   * or after evicting, oldest first, long updates, and halves of rings that
   * would still reach further back than the grower (their oldest update
   * kept is older than `oldest`, the stamp of the grower's oldest).
   * Otherwise false, and the grower drops its own oldest update instead of
   * growing.
   *
   * Why not simply "grow, then evict the oldest": ring memory moves half a
   * ring at a time, so with the budget between two ring sizes, rings traded
   * halves on every store (one grew while the ring holding the oldest update
   * was halved, then the other way round): 13.7 µs per store at 20,000
   * symbols, against 0.3 µs without a budget. With this rule a ring gives
   * memory to another only while that evens out how far back each reaches,
   * so the trade stops.
   */
  roomToGrow(delta: number, oldest: number, grower: Evictable): boolean {
    const members = this.#members;
    while (this.#bytes + delta > this.limit) {
      if (this.#head === this.#tail) return false;
      const seq = this.#seqs[this.#head]!;
      const member = members[this.#ids[this.#head]!]!;
      if (!member.holds(seq)) {
        this.#head++;
        continue;
      }
      const kept = member.keptStamp();
      if (kept === Number.POSITIVE_INFINITY) {
        this.#head++; // a last value: not evictable
        continue;
      }
      // The grower holds the oldest update, or the other would then reach less far back.
      if (member === grower || kept >= oldest) return false;
      member.evictOldest();
      if (!member.holds(seq)) this.#head++;
    }
    return true;
  }

  /**
   * Evicts the oldest updates until the bytes held are within the limit, or
   * only last values are left. Call after a store, never during one.
   */
  settle(): void {
    const members = this.#members;
    while (this.#bytes > this.limit && this.#head < this.#tail) {
      const seq = this.#seqs[this.#head]!;
      const member = members[this.#ids[this.#head]!]!;
      // A record of an update already gone, or of a last value: skip it.
      if (!member.holds(seq) || !member.evictOldest()) {
        this.#head++;
        continue;
      }
      // Still held (its ring was halved but it is in the newer half): its
      // history may still hold the oldest update, so the record stays.
      if (!member.holds(seq)) this.#head++;
    }
  }

  /** The FIFO is full: drops records of updates no longer held, then grows or shrinks it. */
  #compact(): void {
    const ids = this.#ids;
    const seqs = this.#seqs;
    const members = this.#members;
    let w = 0;
    for (let r = this.#head; r < this.#tail; r++) {
      const id = ids[r]!;
      const seq = seqs[r]!;
      if (!members[id]!.holds(seq)) continue;
      ids[w] = id;
      seqs[w] = seq;
      w++;
    }
    this.#head = 0;
    this.#tail = w;
    let size = ids.length;
    if (w * 2 > size) size *= 2;
    else if (w * 8 < size && size > INITIAL_QUEUE) size /= 2;
    if (size === ids.length) return;
    this.#ids = new Int32Array(size);
    this.#ids.set(ids.subarray(0, w));
    this.#seqs = new Int32Array(size);
    this.#seqs.set(seqs.subarray(0, w));
    this.#bytes += (size - ids.length) * RECORD_BYTES;
  }
}
