/**
 * One symbol's recent updates: a ring of fixed-stride slots holding the last
 * `capacity` updates' bytes, for recovery (`since`) and the last-value cache.
 *
 * Why fixed-stride slots: the pipeline publishes each update from a view of
 * the stored bytes, and a view per tick would cost an allocation (subarray
 * measured ~48 ns here). A slot keeps its view while the update length stays
 * the same, which is the steady state (n is a fixed-width uint32, r a uint64),
 * so storing and publishing allocate nothing. Memory per symbol is at most
 * capacity × (stride + SLOT_BYTES) (stride 128 bytes for typical ticks),
 * allocated as the symbol's sequence grows, not up front, and within the
 * budget below.
 *
 * The stride grows to fit longer updates, but only up to MAX_STRIDE: an
 * update longer than that (a tick may carry up to 64 keys of 256-byte
 * strings, ~33 KB) gets a buffer of its own. Without the cap one such tick
 * made every slot of its symbol that large for good: 50 symbols with one
 * big tick each and 99 small ones kept 96.5 MB for 0.83 MB of input.
 *
 * Every history of a symbol table shares one HistoryBudget
 * (`--history-bytes`): each reports the bytes it holds, and when the total
 * is over the limit the oldest updates across all symbols are evicted (see
 * history-budget.ts and evictOldest). An evicted update is gone for
 * recovery: `first` moves past it, and a `since` from before it is answered
 * recovered:false.
 */
import { type Evictable, HistoryBudget } from './history-budget.js';

const INITIAL_STRIDE = 128;
/** Longest update kept in the ring itself; longer ones are stored out of line. */
export const MAX_STRIDE = 512;
/**
 * Bytes counted per slot besides its stride: its length (4), its stamp (8)
 * and its cached view, a Uint8Array object and its array element (about
 * 104 bytes of JS heap each, measured on Node 20): as much as a 128-byte
 * slot again, so the budget counts it.
 */
export const SLOT_BYTES = 120;
const EMPTY = new Uint8Array(0);
const NO_STAMPS = new Float64Array(0);

export class UpdateHistory implements Evictable {
  /** Most updates kept (at least 1: the last value). */
  readonly capacity: number;
  readonly #budget: HistoryBudget;
  /** This history's index in the budget. */
  readonly #id: number;
  /** Whether stores are recorded for eviction (a bounded budget, and more than the last value kept). */
  readonly #tracked: boolean;
  #stride = INITIAL_STRIDE;
  #slots = 1;
  #buf = new Uint8Array(INITIAL_STRIDE);
  /** A DataView over #buf, replaced with it (word copies, see store). */
  #bufView = new DataView(this.#buf.buffer);
  /**
   * Length of each slot's update (-1: none). A slot is out of line (its
   * view is its own buffer) exactly when its length exceeds the stride
   * (which shrinks only when the budget halves the ring, to a stride that
   * still fits every update kept in the ring).
   */
  #lens = new Int32Array(1).fill(-1);
  #views: (Uint8Array | undefined)[] = [undefined];
  /** Each slot's update's stamp (its age, from the budget), when tracked. */
  #stamps: Float64Array;
  /** Bytes of the updates held out of line. */
  #outOfLine = 0;
  /** Sequence number of the oldest update held (0: none). */
  #first = 0;
  /** Sequence number of the newest update held (0: none). */
  #last = 0;

  /** `budget`: shared by the histories of one symbol table (default: one of its own, unbounded). */
  constructor(capacity: number, budget: HistoryBudget = new HistoryBudget()) {
    this.capacity = Math.max(1, capacity);
    this.#budget = budget;
    this.#id = budget.register(this);
    this.#tracked = budget.bounded && this.capacity > 1;
    this.#stamps = this.#tracked ? new Float64Array(1) : NO_STAMPS;
    budget.resize(this.byteSize);
  }

  /** Sequence number of the oldest update held (0 when empty). */
  get first(): number {
    return this.#first;
  }

  /** Sequence number of the newest update held (0 when empty). */
  get lastSeq(): number {
    return this.#last;
  }

  /** The newest update (empty when none). */
  get last(): Uint8Array {
    return this.#last === 0 ? EMPTY : this.get(this.#last)!;
  }

  /**
   * Stores src[start, end) as update `seq` and returns a view of the stored
   * bytes (valid until its slot is reused; a ring rebuilt by growth or
   * eviction leaves the old buffer, and so the view, as it was). A `seq` that
   * does not follow the newest one starts the history afresh. `srcView` is a
   * DataView over exactly src's bytes (the pipeline passes its slab's
   * long-lived one; when omitted, one is made for this call).
   *
   * Copied four bytes at a time through DataViews, then byte by byte for the
   * tail: no object per call. This copy was the hottest line of the pipeline
   * (≈ 17% of the pipeline benchmark's self time under `node --cpu-prof`,
   * inlined into Pipeline.process); for a 75-byte update it measured
   * 66–103 ns as a byte loop, 46 ns as set(subarray()) plus a view object,
   * 20 ns as 32-bit DataView words (BigUint64 words: 152 ns).
   *
   * With a bounded budget, the store is recorded (two typed-array writes)
   * and, when the budget is over, the oldest updates of all symbols are
   * evicted before returning (never this one: it is the last value).
   */
  store(
    seq: number,
    src: Uint8Array,
    start: number,
    end: number,
    srcView: DataView = new DataView(src.buffer, src.byteOffset, src.byteLength),
  ): Uint8Array {
    const len = end - start;
    if (seq !== this.#last + 1 || this.#last === 0) {
      if (this.#last !== 0) this.#releaseHeld();
      // Nothing of the old numbering is held any more: a relayout below (a
      // longer update) must not copy it back, nor take `first` from it.
      this.#last = 0;
      this.#first = seq;
    } else if (seq - this.#first >= this.#slots) {
      if (this.#slots < this.capacity && this.#mayGrow())
        this.#relayout(Math.min(this.capacity, this.#slots * 2));
      if (seq - this.#first >= this.#slots) {
        // Full: the oldest update goes (for the budget, if below capacity).
        if (this.#slots < this.capacity) this.#budget.countEvicted(1);
        this.#first = seq - this.#slots + 1;
      }
    }
    if (len > this.#stride && len <= MAX_STRIDE) {
      let stride = this.#stride;
      while (stride < len) stride *= 2;
      this.#relayout(this.#slots, stride);
    }
    this.#last = seq;
    const idx = seq % this.#slots;
    const prev = this.#lens[idx]!;
    // The update this slot held (dropped above, as the oldest) was out of line: let it go.
    if (prev > this.#stride) this.#release(idx);
    let view: Uint8Array | undefined;
    if (len > this.#stride) {
      // Out of line: one copy of its own (rare by design; allocates).
      view = src.slice(start, end);
      this.#views[idx] = view;
      this.#lens[idx] = len;
      this.#outOfLine += len;
      this.#budget.resize(len);
    } else {
      const off = idx * this.#stride;
      const buf = this.#buf;
      const dst = this.#bufView;
      const words = len & ~3;
      let j = 0;
      for (; j < words; j += 4) dst.setUint32(off + j, srcView.getUint32(start + j));
      for (; j < len; j++) buf[off + j] = src[start + j]!;
      view = this.#views[idx];
      if (prev !== len || view === undefined) {
        view = buf.subarray(off, off + len);
        this.#views[idx] = view;
        this.#lens[idx] = len;
      }
    }
    if (this.#tracked) this.#stamps[idx] = this.#budget.stored(this.#id, seq);
    if (this.#budget.over) this.#budget.settle();
    return view;
  }

  /** Update `seq` if it is still held. */
  get(seq: number): Uint8Array | undefined {
    if (seq < this.#first || seq > this.#last || this.#last === 0) return undefined;
    const idx = seq % this.#slots;
    let view = this.#views[idx];
    if (view === undefined) {
      const off = idx * this.#stride;
      view = this.#buf.subarray(off, off + this.#lens[idx]!);
      this.#views[idx] = view;
    }
    return view;
  }

  /** Updates held (the last value included). */
  get held(): number {
    return this.#last === 0 ? 0 : this.#last - this.#first + 1;
  }

  /** Bytes this history holds: the ring, its per-slot bookkeeping (SLOT_BYTES), updates stored out of line. */
  get byteSize(): number {
    return this.#buf.byteLength + this.#slots * SLOT_BYTES + this.#outOfLine;
  }

  /**
   * Whether update `seq32` (n | 0: the budget keeps 32 bits) is held. The
   * difference is taken modulo 2^32 as a signed int32, so it stays a small
   * integer (no number boxed) and n past 2^31 still compares right.
   */
  holds(seq32: number): boolean {
    if (this.#last === 0) return false;
    const d = (seq32 - this.#first) | 0;
    return d >= 0 && d <= this.#last - this.#first;
  }

  /**
   * For the budget: frees memory from the oldest end. An oldest update held
   * out of line is released by itself; one in the ring shares the ring's
   * buffer, so the ring is halved (its newer half kept, its stride shrunk to
   * what those need). False when only the last value is held.
   */
  evictOldest(): boolean {
    if (this.held <= 1) return false;
    const idx = this.#first % this.#slots;
    if (this.#lens[idx]! > this.#stride) {
      this.#release(idx);
      this.#first++;
      this.#budget.countEvicted(1);
      return true;
    }
    const slots = Math.max(1, this.#slots >> 1);
    const before = this.#first;
    this.#relayout(slots, this.#strideFor(Math.max(this.#first, this.#last - slots + 1)));
    this.#budget.countEvicted(this.#first - before);
    return true;
  }

  keptStamp(): number {
    if (this.held <= 1) return Number.POSITIVE_INFINITY;
    const idx = this.#first % this.#slots;
    // Out of line: released by itself, no ring rebuilt: always worth it.
    if (this.#lens[idx]! > this.#stride) return Number.NEGATIVE_INFINITY;
    // Halving keeps the newest max(1, slots >> 1) updates.
    const keepFrom = this.#last - Math.max(1, this.#slots >> 1) + 1;
    if (keepFrom <= this.#first) return Number.NEGATIVE_INFINITY;
    return this.#stamps[keepFrom % this.#slots]!;
  }

  /**
   * A full ring below capacity: whether it may double. Unbounded: always.
   * Bounded: when the budget has room, or can make it by evicting updates
   * older than this ring's oldest (HistoryBudget.roomToGrow).
   */
  #mayGrow(): boolean {
    if (!this.#tracked) return true;
    const slots = Math.min(this.capacity, this.#slots * 2);
    const delta = (slots - this.#slots) * (this.#stride + SLOT_BYTES);
    return this.#budget.roomToGrow(delta, this.#stamps[this.#first % this.#slots]!, this);
  }

  /** The stride that fits the in-ring updates from `from` to the newest. */
  #strideFor(from: number): number {
    let longest = 0;
    for (let s = from; s <= this.#last; s++) {
      const len = this.#lens[s % this.#slots]!;
      if (len <= this.#stride && len > longest) longest = len;
    }
    let stride = INITIAL_STRIDE;
    while (stride < longest) stride *= 2;
    return stride;
  }

  /** Lets the out-of-line update in slot `idx` go (its buffer is no longer referenced here). */
  #release(idx: number): void {
    const len = this.#lens[idx]!;
    this.#outOfLine -= len;
    this.#budget.resize(-len);
    this.#lens[idx] = -1;
    this.#views[idx] = undefined;
  }

  /** The numbering starts again: lets every update held out of line go. */
  #releaseHeld(): void {
    for (let s = this.#first; s <= this.#last; s++) {
      const idx = s % this.#slots;
      if (this.#lens[idx]! > this.#stride) this.#release(idx);
    }
  }

  /** Rebuilds the ring with `slots` slots of `stride` bytes, keeping the newest updates that fit. */
  #relayout(slots: number, stride = this.#stride): void {
    const before = this.byteSize;
    const buf = new Uint8Array(slots * stride);
    const lens = new Int32Array(slots).fill(-1);
    const views = new Array<Uint8Array | undefined>(slots).fill(undefined);
    const stamps = this.#tracked ? new Float64Array(slots) : NO_STAMPS;
    const keepFrom = Math.max(this.#first, this.#last - slots + 1);
    let outOfLine = 0;
    if (this.#last !== 0) {
      for (let s = keepFrom; s <= this.#last; s++) {
        const old = s % this.#slots;
        const to = s % slots;
        const len = this.#lens[old]!;
        lens[to] = len;
        if (this.#tracked) stamps[to] = this.#stamps[old]!;
        if (len > stride) {
          // Still too long for the new stride: keep its own buffer.
          views[to] = this.#views[old];
          outOfLine += len;
          continue;
        }
        const src =
          len > this.#stride
            ? this.#views[old]!
            : this.#buf.subarray(old * this.#stride, old * this.#stride + len);
        buf.set(src, to * stride);
      }
      this.#first = keepFrom;
    }
    this.#buf = buf;
    this.#bufView = new DataView(buf.buffer);
    this.#lens = lens;
    this.#slots = slots;
    this.#stride = stride;
    this.#views = views;
    this.#stamps = stamps;
    this.#outOfLine = outOfLine;
    this.#budget.resize(this.byteSize - before);
  }
}
