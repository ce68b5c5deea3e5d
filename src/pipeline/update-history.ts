/**
 * One symbol's recent updates: a ring of fixed-stride slots holding the last
 * `capacity` updates' bytes, for recovery (`since`) and the last-value cache.
 *
 * Why fixed-stride slots: the pipeline publishes each update from a view of
 * the stored bytes, and a view per tick would cost an allocation (subarray
 * measured ~48 ns here). A slot keeps its view while the update length stays
 * the same, which is the steady state (n is a fixed-width uint32, r a uint64),
 * so storing and publishing allocate nothing. Memory per symbol is
 * capacity × stride (stride 128 bytes for typical ticks), allocated as the
 * symbol's sequence grows, not up front.
 */
const INITIAL_STRIDE = 128;
const EMPTY = new Uint8Array(0);

export class UpdateHistory {
  /** Most updates kept (at least 1: the last value). */
  readonly capacity: number;
  #stride = INITIAL_STRIDE;
  #slots = 1;
  #buf = new Uint8Array(INITIAL_STRIDE);
  #lens = new Int32Array(1).fill(-1);
  #views: (Uint8Array | undefined)[] = [undefined];
  /** Sequence number of the oldest update held (0: none). */
  #first = 0;
  /** Sequence number of the newest update held (0: none). */
  #last = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
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
   * bytes (valid until `capacity` more updates are stored). A `seq` that does
   * not follow the newest one starts the history afresh.
   */
  store(seq: number, src: Uint8Array, start: number, end: number): Uint8Array {
    const len = end - start;
    if (seq !== this.#last + 1 || this.#last === 0) {
      this.#first = seq;
    } else if (seq - this.#first >= this.#slots) {
      if (this.#slots < this.capacity) this.#relayout(Math.min(this.capacity, this.#slots * 2));
      if (seq - this.#first >= this.#slots) this.#first = seq - this.#slots + 1;
    }
    if (len > this.#stride) {
      let stride = this.#stride;
      while (stride < len) stride *= 2;
      this.#relayout(this.#slots, stride);
    }
    this.#last = seq;
    const idx = seq % this.#slots;
    const off = idx * this.#stride;
    // An index loop, not set(subarray()): no view object per tick.
    const buf = this.#buf;
    for (let j = 0; j < len; j++) buf[off + j] = src[start + j]!;
    let view = this.#views[idx];
    if (this.#lens[idx] !== len || view === undefined) {
      view = buf.subarray(off, off + len);
      this.#views[idx] = view;
      this.#lens[idx] = len;
    }
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

  /** Rebuilds the ring with `slots` slots of `stride` bytes, keeping what fits. */
  #relayout(slots: number, stride = this.#stride): void {
    const buf = new Uint8Array(slots * stride);
    const lens = new Int32Array(slots).fill(-1);
    const keepFrom = Math.max(this.#first, this.#last - slots + 1);
    if (this.#last !== 0) {
      for (let s = keepFrom; s <= this.#last; s++) {
        const from = (s % this.#slots) * this.#stride;
        const len = this.#lens[s % this.#slots]!;
        const to = (s % slots) * stride;
        buf.set(this.#buf.subarray(from, from + len), to);
        lens[s % slots] = len;
      }
      this.#first = keepFrom;
    }
    this.#buf = buf;
    this.#lens = lens;
    this.#slots = slots;
    this.#stride = stride;
    this.#views = new Array<Uint8Array | undefined>(slots).fill(undefined);
  }
}
