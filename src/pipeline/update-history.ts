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
 *
 * The stride grows to fit longer updates, but only up to MAX_STRIDE: an
 * update longer than that (a tick may carry up to 64 keys of 256-byte
 * strings, ~33 KB) gets a buffer of its own. Without the cap one such tick
 * made every slot of its symbol that large for good: 50 symbols with one
 * big tick each and 99 small ones kept 96.5 MB for 0.83 MB of input.
 */
const INITIAL_STRIDE = 128;
/** Longest update kept in the ring itself; longer ones are stored out of line. */
export const MAX_STRIDE = 512;
const EMPTY = new Uint8Array(0);

export class UpdateHistory {
  /** Most updates kept (at least 1: the last value). */
  readonly capacity: number;
  #stride = INITIAL_STRIDE;
  #slots = 1;
  #buf = new Uint8Array(INITIAL_STRIDE);
  /** A DataView over #buf, replaced with it (word copies, see store). */
  #bufView = new DataView(this.#buf.buffer);
  /**
   * Length of each slot's update (-1: none). A slot is out of line (its
   * view is its own buffer) exactly when its length exceeds the stride,
   * which never shrinks.
   */
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
   * not follow the newest one starts the history afresh. `srcView` is a
   * DataView over exactly src's bytes (the pipeline passes its slab's
   * long-lived one; when omitted, one is made for this call).
   *
   * Copied four bytes at a time through DataViews, then byte by byte for the
   * tail: no object per call. This copy was the hottest line of the pipeline
   * (≈ 17% of the pipeline benchmark's self time under `node --cpu-prof`,
   * inlined into Pipeline.process); for a 75-byte update it measured
   * 66–103 ns as a byte loop, 46 ns as set(subarray()) plus a view object,
   * 20 ns as 32-bit DataView words (BigUint64 words: 152 ns).
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
      this.#first = seq;
    } else if (seq - this.#first >= this.#slots) {
      if (this.#slots < this.capacity) this.#relayout(Math.min(this.capacity, this.#slots * 2));
      if (seq - this.#first >= this.#slots) this.#first = seq - this.#slots + 1;
    }
    if (len > this.#stride && len <= MAX_STRIDE) {
      let stride = this.#stride;
      while (stride < len) stride *= 2;
      this.#relayout(this.#slots, stride);
    }
    this.#last = seq;
    const idx = seq % this.#slots;
    if (len > this.#stride) {
      // Out of line: one copy of its own (rare by design; allocates).
      const own = src.slice(start, end);
      this.#views[idx] = own;
      this.#lens[idx] = len;
      return own;
    }
    const off = idx * this.#stride;
    const buf = this.#buf;
    const dst = this.#bufView;
    const words = len & ~3;
    let j = 0;
    for (; j < words; j += 4) dst.setUint32(off + j, srcView.getUint32(start + j));
    for (; j < len; j++) buf[off + j] = src[start + j]!;
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
    const views = new Array<Uint8Array | undefined>(slots).fill(undefined);
    const keepFrom = Math.max(this.#first, this.#last - slots + 1);
    if (this.#last !== 0) {
      for (let s = keepFrom; s <= this.#last; s++) {
        const old = s % this.#slots;
        const to = s % slots;
        const len = this.#lens[old]!;
        lens[to] = len;
        if (len > stride) {
          // Still too long for the new stride: keep its own buffer.
          views[to] = this.#views[old];
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
  }

  /** Bytes this history holds: the ring plus updates stored out of line. */
  get byteSize(): number {
    let size = this.#buf.byteLength;
    for (let i = 0; i < this.#slots; i++) {
      if (this.#lens[i]! > this.#stride) size += this.#views[i]!.byteLength;
    }
    return size;
  }
}
