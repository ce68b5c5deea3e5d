/**
 * Interns symbols from their bytes and keeps per-symbol state: the sequence
 * counter and the last update (the last-value cache for snapshots).
 *
 * Lookup is by the bytes in the frame, so no string is created per tick: an
 * open-addressing table keyed by the scanner's FNV-1a hash, confirmed by a
 * byte compare. The string, its topics and its storage are created once, the
 * first time a symbol is seen.
 */
import { topicFor } from './topics.js';
import { UpdateHistory } from './update-history.js';

const TEXT = new TextDecoder();
const ENCODER = new TextEncoder();

/** One symbol's state. */
export class SymbolEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly hash: number;
  readonly msgpackTopic: string;
  readonly jsonTopic: string;
  /** Index in its symbol table, which only appends (small and dense: per-symbol arrays key on it). */
  readonly id: number;
  /** Sequence number of the last update (0: none yet). */
  seq = 0;
  /** The last updates (the last-value cache and the recovery history). */
  readonly history: UpdateHistory;

  constructor(name: string, bytes: Uint8Array, hash: number, history = 1, id = 0) {
    this.name = name;
    this.id = id;
    this.bytes = bytes;
    this.hash = hash;
    this.msgpackTopic = topicFor(name, 'msgpack');
    this.jsonTopic = topicFor(name, 'json');
    this.history = new UpdateHistory(history);
  }

  /** The last update (empty when there is none). Valid until the next store. */
  get last(): Uint8Array {
    return this.history.last;
  }

  /**
   * Stores src[start, end) as update number `seq` (the current sequence
   * number by default) and returns a view of the stored bytes, reused while
   * the slot's update length stays the same, so publishing it allocates
   * nothing. `srcView`: a DataView over src's bytes (see UpdateHistory.store).
   */
  store(src: Uint8Array, start: number, end: number, srcView?: DataView): Uint8Array {
    return this.history.store(this.seq, src, start, end, srcView);
  }
}

export class SymbolTable {
  readonly maxSymbols: number;
  /** Updates kept per symbol (at least 1, the last value). */
  readonly history: number;
  readonly #entries: SymbolEntry[] = [];
  readonly #byName = new Map<string, SymbolEntry>();
  /** Slots hold entry index + 1; 0 is empty. Kept at most half full. */
  #slots: Int32Array = new Int32Array(1024);

  constructor(maxSymbols: number, history = 1) {
    this.maxSymbols = maxSymbols;
    this.history = Math.max(1, history);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Every entry, in order of first appearance. */
  get entries(): readonly SymbolEntry[] {
    return this.#entries;
  }

  get(name: string): SymbolEntry | undefined {
    return this.#byName.get(name);
  }

  /** Finds or creates the entry for a symbol known by name (the bus side). */
  internName(name: string): SymbolEntry | undefined {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    const bytes = ENCODER.encode(name);
    return this.intern(bytes, 0, bytes.length, symbolHash(bytes));
  }

  /**
   * Finds the symbol spelled by buf[start, start+len) with the given hash,
   * creating it when new. Returns undefined when the table is full.
   */
  intern(buf: Uint8Array, start: number, len: number, hash: number): SymbolEntry | undefined {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = hash & mask;
    for (;;) {
      const slot = slots[i]!;
      if (slot === 0) break;
      const e = this.#entries[slot - 1]!;
      if (e.hash === hash && e.bytes.length === len && sameBytes(e.bytes, buf, start)) return e;
      i = (i + 1) & mask;
    }
    if (this.#entries.length >= this.maxSymbols) return undefined;
    const bytes = buf.slice(start, start + len);
    const entry = new SymbolEntry(
      TEXT.decode(bytes),
      bytes,
      hash,
      this.history,
      this.#entries.length,
    );
    this.#entries.push(entry);
    this.#byName.set(entry.name, entry);
    slots[i] = this.#entries.length;
    if (this.#entries.length * 2 > slots.length) this.#grow();
    return entry;
  }

  #grow(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let k = 0; k < this.#entries.length; k++) {
      let i = this.#entries[k]!.hash & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = k + 1;
    }
    this.#slots = slots;
  }
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] !== buf[start + j]) return false;
  return true;
}

/** FNV-1a over a string's UTF-8 bytes, as the scanner hashes symbols. */
export function symbolHash(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < bytes.length; j++) h = Math.imul(h ^ bytes[j]!, 0x01000193);
  return h;
}
