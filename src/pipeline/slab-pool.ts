/**
 * A pool of fixed-size byte slabs for building outgoing frames.
 *
 * The pipeline reserves the worst-case size of a frame's output, writes the
 * updates into it, publishes, and releases everything when the frame is done
 * (uWS copies on publish, so the bytes are free again at once). Slabs are
 * allocated on first need and then reused for the life of the process: in
 * steady state no Buffer is allocated per frame or per tick.
 *
 * A reservation larger than a slab gets an oversized slab of its own, which is
 * kept (the largest one only) and reused for the next large frame.
 */
export class SlabPool {
  readonly slabSize: number;
  readonly #slabs: Uint8Array[] = [];
  /** A DataView over each slab (same index), created with the slab. */
  readonly #views: DataView[] = [];
  #oversized: Uint8Array | undefined;
  #oversizedView: DataView | undefined;
  #index = 0;
  #offset = 0;
  #allocated = 0;

  /** The slab of the last reservation; write at `offset`. */
  slab: Uint8Array;
  /**
   * A DataView over `slab` (byteOffset 0, whole buffer), for word-sized copies out of it
   * without creating a view per copy (see SymbolEntry.store).
   */
  view: DataView;
  /** Where the last reservation starts in `slab`. */
  offset = 0;

  constructor(slabSize = 256 * 1024) {
    if (!Number.isInteger(slabSize) || slabSize < 64) {
      throw new RangeError(`slabSize must be an integer >= 64, got ${slabSize}`);
    }
    this.slabSize = slabSize;
    this.slab = this.#newSlab(slabSize);
    this.view = new DataView(this.slab.buffer);
    this.#slabs.push(this.slab);
    this.#views.push(this.view);
  }

  /** Slabs allocated so far (fixed and oversized). */
  get allocated(): number {
    return this.#allocated;
  }

  /**
   * Reserves `size` contiguous bytes; afterwards `slab` and `offset` say
   * where. Call `commit(used)` with the bytes actually written.
   */
  reserve(size: number): void {
    if (size > this.slabSize) {
      let big = this.#oversized;
      if (big === undefined || big.length < size) {
        big = this.#newSlab(size);
        this.#oversized = big;
        this.#oversizedView = new DataView(big.buffer);
      }
      this.slab = big;
      this.view = this.#oversizedView!;
      this.offset = 0;
      return;
    }
    if (this.#offset + size > this.slabSize) {
      this.#index++;
      if (this.#index === this.#slabs.length) {
        const slab = this.#newSlab(this.slabSize);
        this.#slabs.push(slab);
        this.#views.push(new DataView(slab.buffer));
      }
      this.#offset = 0;
    }
    this.slab = this.#slabs[this.#index]!;
    this.view = this.#views[this.#index]!;
    this.offset = this.#offset;
  }

  /** Marks `used` bytes of the last reservation as taken. */
  commit(used: number): void {
    if (this.slab !== this.#oversized) this.#offset = this.offset + used;
  }

  /** Releases every reservation; slabs are kept for reuse. */
  reset(): void {
    this.#index = 0;
    this.#offset = 0;
  }

  #newSlab(size: number): Uint8Array {
    this.#allocated++;
    return new Uint8Array(size);
  }
}
