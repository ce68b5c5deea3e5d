/**
 * A first-in first-out queue with O(1) amortised removal from the head: an
 * array and a head index, compacted once the consumed part is at least half
 * of it. `array.slice(k)` after each removal made draining a long queue
 * quadratic: 200,000 outstanding one-tick frames took 94 s of blocked event
 * loop to acknowledge (the review's measurement), one copy of the rest of the
 * queue per ack.
 *
 * `unshiftAll` puts back the items just taken (a batch that lost the
 * append race goes back in front of the ticks queued after it); it reuses the
 * freed slots in front of the head, so it costs the batch's length, not the
 * queue's.
 */

/** Compaction is not worth it below this many consumed slots. */
const COMPACT_MIN = 1024;

export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The item `k` places from the head (0: the head), if there is one. */
  at(k: number): T | undefined {
    return k < this.length ? this.#items[this.#head + k] : undefined;
  }

  /** Removes and returns the head. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    this.#compact();
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) this.clear();
    return item;
  }

  /** Removes and returns the first `count` items (fewer if there are fewer). */
  take(count: number): T[] {
    this.#compact();
    const end = Math.min(this.#items.length, this.#head + count);
    const out = this.#items.slice(this.#head, end) as T[];
    // Free the references; the slots are reused by unshiftAll.
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    return out;
  }

  /** Puts `items` back in front of the head, in their order. */
  unshiftAll(items: readonly T[]): void {
    const n = items.length;
    if (n === 0) return;
    if (n <= this.#head) {
      this.#head -= n;
      for (let k = 0; k < n; k++) this.#items[this.#head + k] = items[k];
      return;
    }
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** Drops the consumed slots once they are at least half of the array. */
  #compact(): void {
    if (this.#head >= COMPACT_MIN && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
