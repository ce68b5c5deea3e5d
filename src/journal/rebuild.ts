/**
 * Per-symbol state for a restart: each symbol's last `n` and `r` and its
 * last K updates, from a journal.
 *
 * Reads the whole journal forward. The tail alone cannot do: a symbol that
 * went quiet has its last record anywhere, and its `n` must still continue,
 * so every record is looked at; retention (maxBytes/maxAgeMs) is what bounds
 * the read. The state is built aside and returned only once the journal has
 * read to the end without error, so a damaged journal loads nothing.
 */
import type { JournalReader } from './journal-reader.js';

export interface SymbolState {
  readonly symbol: string;
  /** `n` of the symbol's last update. */
  readonly lastN: number;
  /** `r` (µs) of the symbol's last update. */
  readonly lastR: number;
  /** Its last `keep` updates (fewer if it has fewer), oldest first; copies. */
  readonly updates: readonly Uint8Array[];
  /** The `n` of each of `updates` (consecutive unless the journal has gaps, e.g. a recording). */
  readonly ns: readonly number[];
}

/** A ring of the last K updates; a slot's array is reused when the length matches. */
class Lane {
  lastN = 0;
  lastR = 0;
  readonly ring: Uint8Array[] = [];
  readonly ns: number[] = [];
  /** Where the next update goes once the ring is full. */
  head = 0;

  constructor(readonly symbol: string) {}

  add(update: Uint8Array, n: number, keep: number): void {
    if (keep === 0) return;
    if (this.ring.length < keep) {
      this.ring.push(new Uint8Array(update));
      this.ns.push(n);
      return;
    }
    this.ns[this.head] = n;
    // Updates of one symbol usually keep their length (fixed-width n/r), so
    // most of the time the oldest slot is overwritten in place.
    const old = this.ring[this.head]!;
    if (old.length === update.length) old.set(update);
    else this.ring[this.head] = new Uint8Array(update);
    this.head = (this.head + 1) % keep;
  }

  state(): SymbolState {
    const updates = this.ring.slice(this.head).concat(this.ring.slice(0, this.head));
    const ns = this.ns.slice(this.head).concat(this.ns.slice(0, this.head));
    return { symbol: this.symbol, lastN: this.lastN, lastR: this.lastR, updates, ns };
  }
}

/**
 * Every symbol's state at the end of the journal, by symbol. `keep` is K,
 * the number of last updates to return per symbol (0: none).
 */
export function readSymbolStates(reader: JournalReader, keep: number): Map<string, SymbolState> {
  if (!Number.isSafeInteger(keep) || keep < 0) throw new RangeError(`bad keep: ${keep}`);
  const lanes = new Map<string, Lane>();
  for (const record of reader.records()) {
    let lane = lanes.get(record.symbol);
    if (lane === undefined) {
      lane = new Lane(record.symbol);
      lanes.set(record.symbol, lane);
    }
    lane.lastN = record.n;
    lane.lastR = record.r;
    lane.add(record.update, record.n, keep);
  }
  const out = new Map<string, SymbolState>();
  for (const [symbol, lane] of lanes) out.set(symbol, lane.state());
  return out;
}
