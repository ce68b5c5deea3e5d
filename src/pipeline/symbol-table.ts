/**
 * Interns symbols from their bytes and keeps per-symbol state: the sequence
 * counter and the last update (the last-value cache for snapshots).
 *
 * Lookup is by the bytes in the frame, so no string is created per tick: an
 * open-addressing table (linear probing) keyed by a keyed hash of the bytes
 * (symbol-hash.ts: HalfSipHash-1-3 under a random key of this table),
 * confirmed by a byte compare. The string, its topics and its storage are
 * created once, the first time a symbol is seen.
 *
 * Hash flooding: feeds choose the symbols, so the table must not let them
 * choose collisions. The key is secret (drawn from crypto.getRandomValues per
 * table), and no entry is ever placed more than MAX_PROBE slots from where
 * its hash points: an insert that finds no free slot that close grows the
 * table (up to MAX_GROWTH times the size its load needs) and, past that,
 * is refused (intern returns undefined: the tick is rejected as
 * symbol_table_full) rather than walking a long chain. So a lookup examines
 * at most MAX_PROBE + 1 slots, whatever the input.
 *
 * Speed: the keyed hash costs about 22 ns for an 8-byte symbol here, against
 * nothing for the FNV-1a the scanner computes anyway while it validates the
 * symbol. So a lookup first checks one slot of a small direct-mapped cache of
 * recent symbols, picked by that FNV-1a and confirmed by a byte compare; only
 * on a miss does it hash with the key and probe. An attacker can make every
 * lookup miss the cache (one compare lost), never make it longer.
 */
import { topicFor } from './topics.js';
import { type SymbolHashKey, fnv1a, randomSymbolHashKey, symbolHash } from './symbol-hash.js';
import { HistoryBudget } from './history-budget.js';
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

  constructor(
    name: string,
    bytes: Uint8Array,
    hash: number,
    history = 1,
    id = 0,
    budget?: HistoryBudget,
  ) {
    this.name = name;
    this.id = id;
    this.bytes = bytes;
    this.hash = hash;
    this.msgpackTopic = topicFor(name, 'msgpack');
    this.jsonTopic = topicFor(name, 'json');
    this.history = new UpdateHistory(history, budget);
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

/** Most slots an entry may sit past the one its hash points to. */
export const MAX_PROBE = 64;
/** How far past its load-based size the table may grow to keep probes short. */
const MAX_GROWTH = 4;
const MIN_SLOTS = 1024;
/** Slots of the recent-symbol cache (a power of two; 32 KB of references). */
const RECENT = 4096;

export interface SymbolTableOptions {
  /** The hash key (default: random). Tests fix it to make probe counts reproducible. */
  readonly hashKey?: SymbolHashKey;
  /** Most bytes the histories of all symbols may hold (default: unbounded; see HistoryBudget). */
  readonly historyBytes?: number;
}

export class SymbolTable {
  readonly maxSymbols: number;
  /** Updates kept per symbol (at least 1, the last value). */
  readonly history: number;
  /** The byte budget every symbol's history shares. */
  readonly historyBudget: HistoryBudget;
  readonly #entries: SymbolEntry[] = [];
  readonly #byName = new Map<string, SymbolEntry>();
  readonly #k0: number;
  readonly #k1: number;
  /**
   * Recently looked-up entries, at scanner hash & (RECENT - 1), with that
   * hash in full: a miss is then told by one read of a 16 KB array, without
   * loading an entry (with 100k symbols, that load is a cache miss).
   */
  readonly #recent = new Array<SymbolEntry | undefined>(RECENT).fill(undefined);
  readonly #recentHash = new Int32Array(RECENT);
  /** Slots hold entry index + 1; 0 is empty. Kept at most half full. */
  #slots: Int32Array = new Int32Array(MIN_SLOTS);
  /** Most slots the table may have (MAX_GROWTH × what maxSymbols at half load needs). */
  readonly #maxSlots: number;
  /** Slots examined by intern, in all (a work measure for tests and stats). */
  #probes = 0;
  /** Farthest any entry sits from its hash's slot. */
  #longest = 0;
  /**
   * Slots a lookup examines past the first: MAX_PROBE, unless a rehash at the
   * largest size had to place some entry farther (then as far as that one).
   */
  #limit = MAX_PROBE;
  /** New symbols refused because no slot within MAX_PROBE was free at the largest size. */
  #refused = 0;

  constructor(maxSymbols: number, history = 1, options: SymbolTableOptions = {}) {
    this.maxSymbols = maxSymbols;
    this.history = Math.max(1, history);
    this.historyBudget = new HistoryBudget(options.historyBytes);
    const key = options.hashKey ?? randomSymbolHashKey();
    this.#k0 = key.k0 | 0;
    this.#k1 = key.k1 | 0;
    let needed = MIN_SLOTS;
    while (needed < maxSymbols * 2) needed *= 2;
    this.#maxSlots = needed * MAX_GROWTH;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Every entry, in order of first appearance. */
  get entries(): readonly SymbolEntry[] {
    return this.#entries;
  }

  /** Slots examined by intern so far, in all. */
  get probes(): number {
    return this.#probes;
  }

  /** The farthest any entry sits from its hash's slot (at most MAX_PROBE but at the largest size). */
  get longestProbe(): number {
    return this.#longest;
  }

  /** New symbols refused because every slot within MAX_PROBE was taken. */
  get probeRefusals(): number {
    return this.#refused;
  }

  get(name: string): SymbolEntry | undefined {
    return this.#byName.get(name);
  }

  /** Finds or creates the entry for a symbol known by name (the bus side). */
  internName(name: string): SymbolEntry | undefined {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    const bytes = ENCODER.encode(name);
    return this.intern(bytes, 0, bytes.length, fnv1a(bytes, 0, bytes.length));
  }

  /**
   * Finds the symbol spelled by buf[start, start+len), creating it when new.
   * `scanHash` is the scanner's FNV-1a of those bytes (scanner.symHash; see
   * fnv1a): it only picks a slot of the recent-symbol cache, so a wrong one
   * costs a cache miss, never a wrong answer. Returns undefined when the
   * table is full (maxSymbols, or no free slot within MAX_PROBE even at the
   * largest size).
   */
  intern(buf: Uint8Array, start: number, len: number, scanHash: number): SymbolEntry | undefined {
    const r = scanHash & (RECENT - 1);
    if (this.#recentHash[r] === scanHash) {
      const cached = this.#recent[r];
      if (
        cached !== undefined &&
        cached.bytes.length === len &&
        sameBytes(cached.bytes, buf, start)
      )
        return cached;
    }
    const e = this.#find(buf, start, len);
    if (e !== undefined) {
      this.#recent[r] = e;
      this.#recentHash[r] = scanHash;
    }
    return e;
  }

  /** intern without the cache: keyed hash, bounded probe, insert. */
  #find(buf: Uint8Array, start: number, len: number): SymbolEntry | undefined {
    const hash = symbolHash(this.#k0, this.#k1, buf, start, len);
    const entries = this.#entries;
    for (;;) {
      const slots = this.#slots;
      const mask = slots.length - 1;
      let i = hash & mask;
      // Every entry is within #limit of its slot, so a symbol not met by
      // then (or by an empty slot) is not in the table.
      const limit = this.#limit;
      let free = -1;
      let d = 0;
      for (; d <= limit; d++) {
        const slot = slots[i]!;
        if (slot === 0) {
          free = i;
          break;
        }
        const e = entries[slot - 1]!;
        if (e.hash === hash && e.bytes.length === len && sameBytes(e.bytes, buf, start)) {
          this.#probes += d + 1;
          return e;
        }
        i = (i + 1) & mask;
      }
      this.#probes += free === -1 ? d : d + 1;
      if (entries.length >= this.maxSymbols) return undefined;
      if (free === -1 || d > MAX_PROBE) {
        // A chain this long is (with a secret key) bad luck, not load: grow.
        if (slots.length * 2 > this.#maxSlots) {
          this.#refused++;
          return undefined;
        }
        this.#rehash(slots.length * 2);
        continue;
      }
      const bytes = buf.slice(start, start + len);
      const entry = new SymbolEntry(
        TEXT.decode(bytes),
        bytes,
        hash,
        this.history,
        entries.length,
        this.historyBudget,
      );
      entries.push(entry);
      this.#byName.set(entry.name, entry);
      slots[free] = entries.length;
      if (d > this.#longest) this.#longest = d;
      if (entries.length * 2 > slots.length) this.#rehash(slots.length * 2);
      return entry;
    }
  }

  /**
   * Rebuilds the slots at `size` (or larger, while some entry would sit more
   * than MAX_PROBE away and growth is allowed). Entries never move otherwise.
   */
  #rehash(size: number): void {
    const entries = this.#entries;
    for (;;) {
      const slots = new Int32Array(size);
      const mask = size - 1;
      let longest = 0;
      for (let k = 0; k < entries.length; k++) {
        let i = entries[k]!.hash & mask;
        let d = 0;
        while (slots[i] !== 0) {
          i = (i + 1) & mask;
          d++;
        }
        slots[i] = k + 1;
        if (d > longest) longest = d;
      }
      if (longest > MAX_PROBE && size * 2 <= this.#maxSlots) {
        size *= 2;
        continue;
      }
      this.#slots = slots;
      this.#longest = longest;
      this.#limit = Math.max(MAX_PROBE, longest);
      return;
    }
  }
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] !== buf[start + j]) return false;
  return true;
}
