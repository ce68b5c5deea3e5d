/**
 * HistoryBudget: the global byte budget of all symbols' histories. The bytes
 * held (rings, out-of-line updates, the budget's own FIFO) never stay above
 * the limit after a store, the oldest updates across symbols go first, and
 * what is evicted is released, not just marked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryBudget } from '../../src/pipeline/history-budget.js';
import { MAX_STRIDE, SLOT_BYTES, UpdateHistory } from '../../src/pipeline/update-history.js';

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** Bytes the histories report, plus the FIFO: what the budget must be counting. */
const held = (budget: HistoryBudget, hs: readonly UpdateHistory[]): number =>
  hs.reduce((sum, h) => sum + h.byteSize, budget.queueBytes);

const BIG = 2000; // out of line (> MAX_STRIDE)
/** What a 128-byte slot costs, its bookkeeping included. */
const SLOT = 128 + SLOT_BYTES;
/** The budget's FIFO at first: 1024 records of 8 bytes. */
const FIFO = 1024 * 8;

describe('HistoryBudget', () => {
  it('evicts long updates one by one, oldest first across symbols', () => {
    const budget = new HistoryBudget(40_000);
    const hs = [0, 1, 2].map(() => new UpdateHistory(100, budget));
    const order: [number, number][] = [];
    for (let n = 1; n <= 20; n++) {
      for (let k = 0; k < 3; k++) {
        hs[k]!.store(n, bytes(BIG, n * 3 + k), 0, BIG);
        order.push([k, n]);
        expect(budget.bytes).toBeLessThanOrEqual(budget.limit);
        expect(budget.bytes).toBe(held(budget, hs));
      }
    }
    // What is still held is exactly the newest stores: a suffix of the store order.
    const isHeld = order.map(([k, n]) => hs[k]!.get(n) !== undefined);
    const cut = isHeld.indexOf(true);
    expect(cut).toBeGreaterThan(0);
    expect(isHeld.slice(cut).every(Boolean)).toBe(true);
    expect(isHeld.slice(0, cut).some(Boolean)).toBe(false);
    expect(budget.evicted).toBe(cut);
    for (const [k, n] of order.slice(cut)) {
      expect(Array.from(hs[k]!.get(n)!)).toEqual(Array.from(bytes(BIG, n * 3 + k)));
    }
  });

  it('halves the ring of the symbol holding the oldest update, keeping its newer half', () => {
    const budget = new HistoryBudget(64 * SLOT + 16 * SLOT + FIFO + 500);
    const a = new UpdateHistory(64, budget);
    const b = new UpdateHistory(64, budget);
    for (let n = 1; n <= 64; n++) a.store(n, bytes(50, n), 0, 50);
    expect(a.byteSize).toBe(64 * SLOT);
    expect(budget.evicted).toBe(0);
    // B's ring would grow to 32 slots, past the limit: A holds older updates
    // than any of B's, so A gives up its older half and B grows.
    for (let n = 1; n <= 17; n++) b.store(n, bytes(50, 100 + n), 0, 50);
    expect(budget.bytes).toBeLessThanOrEqual(budget.limit);
    expect(a.first).toBe(33);
    expect(a.byteSize).toBe(32 * SLOT);
    expect(a.get(32)).toBeUndefined();
    for (let n = 33; n <= 64; n++) expect(Array.from(a.get(n)!)).toEqual(Array.from(bytes(50, n)));
    expect(b.first).toBe(1);
    expect(budget.evicted).toBe(32);
    expect(budget.bytes).toBe(held(budget, [a, b]));
  });

  it('under a steady load over the budget, rings stop trading memory', () => {
    // 50 symbols updated in turn, with room for about 5 updates each: rings
    // end up at 4 or 8 slots. They must then keep their size (each drops its
    // own oldest), not grow and halve in turn on every store.
    const budget = new HistoryBudget(50 * 5 * SLOT + 4 * FIFO);
    const hs = Array.from({ length: 50 }, () => new UpdateHistory(100, budget));
    for (let n = 1; n <= 100; n++) for (const h of hs) h.store(n, bytes(60, n), 0, 60);
    const sizes = hs.map((h) => h.byteSize);
    const evicted = budget.evicted;
    let changed = 0;
    for (let n = 101; n <= 300; n++) {
      for (const h of hs) {
        h.store(n, bytes(60, n), 0, 60);
        // Trading would grow this ring and halve another, then back, within the round.
        if (hs.some((x, k) => x.byteSize !== sizes[k])) changed++;
      }
    }
    expect(changed).toBe(0);
    // One update out for each one in, and what is held is the newest of each.
    expect(budget.evicted - evicted).toBe(200 * 50);
    expect(budget.bytes).toBeLessThanOrEqual(budget.limit);
    for (const h of hs) {
      expect(h.lastSeq).toBe(300);
      expect(h.held).toBeGreaterThanOrEqual(4);
    }
  });

  it('a symbol gone quiet gives its old updates up to an active one', () => {
    const budget = new HistoryBudget(64 * SLOT + 8 * SLOT + FIFO + 500);
    const quiet = new UpdateHistory(100, budget);
    const active = new UpdateHistory(100, budget);
    for (let n = 1; n <= 64; n++) quiet.store(n, bytes(60, n), 0, 60);
    for (let n = 1; n <= 300; n++) active.store(n, bytes(60, n), 0, 60);
    // Every update of the quiet one is older than any of the active one's:
    // it is halved down to its last value, and the active ring grows to 64,
    // the largest that fits (100 would not).
    expect(quiet.held).toBe(1);
    expect(quiet.lastSeq).toBe(64);
    expect(active.held).toBe(64);
    expect(budget.bytes).toBeLessThanOrEqual(budget.limit);
  });

  it('gives back a stride grown for a longer update once that update is evicted', () => {
    const budget = new HistoryBudget(1_000_000);
    const a = new UpdateHistory(8, budget);
    a.store(1, bytes(400, 1), 0, 400);
    for (let n = 2; n <= 8; n++) a.store(n, bytes(50, n), 0, 50);
    expect(a.byteSize).toBe(8 * (MAX_STRIDE + SLOT_BYTES));
    expect(a.evictOldest()).toBe(true);
    // Halved, and the updates kept fit a 128-byte stride again.
    expect(a.first).toBe(5);
    expect(a.byteSize).toBe(4 * SLOT);
    for (let n = 5; n <= 8; n++) expect(Array.from(a.get(n)!)).toEqual(Array.from(bytes(50, n)));
    expect(budget.bytes).toBe(held(budget, [a]));
  });

  it('releases a 33 KB update when it is evicted', () => {
    const budget = new HistoryBudget(1_000_000);
    const a = new UpdateHistory(100, budget);
    a.store(1, bytes(33_000, 1), 0, 33_000);
    a.store(2, bytes(50, 2), 0, 50);
    const before = a.byteSize;
    expect(a.evictOldest()).toBe(true);
    expect(a.byteSize).toBe(before - 33_000);
    expect(a.get(1)).toBeUndefined();
    expect(a.first).toBe(2);
    expect(budget.bytes).toBe(held(budget, [a]));
  });

  it('never evicts the last value: a budget below the last values stays exceeded', () => {
    const budget = new HistoryBudget(10_000);
    const hs = Array.from({ length: 10 }, () => new UpdateHistory(100, budget));
    hs.forEach((h, k) => h.store(1, bytes(BIG, k), 0, BIG));
    expect(budget.bytes).toBeGreaterThan(budget.limit);
    hs.forEach((h, k) => expect(Array.from(h.last)).toEqual(Array.from(bytes(BIG, k))));
    // Each new update of a symbol then evicts the one before it.
    hs[0]!.store(2, bytes(BIG, 99), 0, BIG);
    expect(hs[0]!.first).toBe(2);
    expect(budget.evicted).toBe(1);
    expect(budget.bytes).toBe(held(budget, hs));
  });

  it('releases the long updates of a history whose numbering starts again', () => {
    const budget = new HistoryBudget(1_000_000);
    const a = new UpdateHistory(10, budget);
    for (let n = 1; n <= 5; n++) a.store(n, bytes(BIG, n), 0, BIG);
    a.store(100, bytes(50, 100), 0, 50);
    expect(a.first).toBe(100);
    expect(a.byteSize).toBe(8 * SLOT);
    expect(budget.bytes).toBe(held(budget, [a]));
  });

  it('keeps its FIFO of stores small when nothing needs evicting', () => {
    const budget = new HistoryBudget(1 << 30);
    const a = new UpdateHistory(4, budget);
    const b = new UpdateHistory(100, budget);
    for (let n = 1; n <= 100_000; n++) {
      a.store(n, bytes(20, n), 0, 20);
      if (n % 100 === 0) b.store(n / 100, bytes(20, n), 0, 20);
    }
    // 104 updates held: the FIFO never needed to grow past its first 1024 records.
    expect(budget.queueBytes).toBe(FIFO);
    expect(budget.evicted).toBe(0);
  });

  it('tracks n past 2^31 and 2^32 (the FIFO keeps n | 0)', () => {
    const budget = new HistoryBudget(20_000);
    const starts = [2 ** 32 - 3, 2 ** 31 - 3];
    const hs = starts.map(() => new UpdateHistory(100, budget));
    const order: [number, number][] = [];
    for (let k = 0; k < 12; k++) {
      hs.forEach((h, j) => {
        h.store(starts[j]! + k, bytes(BIG, k * 2 + j), 0, BIG);
        order.push([j, starts[j]! + k]);
        expect(budget.bytes).toBeLessThanOrEqual(budget.limit);
      });
    }
    // Evicted oldest first across both, as with small n.
    const isHeld = order.map(([j, n]) => hs[j]!.get(n) !== undefined);
    const cut = isHeld.indexOf(true);
    expect(cut).toBeGreaterThan(2);
    expect(isHeld.slice(cut).every(Boolean)).toBe(true);
    expect(isHeld.slice(0, cut).some(Boolean)).toBe(false);
    for (const [j, n] of order.slice(cut)) {
      const k = n - starts[j]!;
      expect(Array.from(hs[j]!.get(n)!)).toEqual(Array.from(bytes(BIG, k * 2 + j)));
    }
    expect(budget.bytes).toBe(held(budget, hs));
  });

  it('an unbounded budget records nothing and evicts nothing', () => {
    const budget = new HistoryBudget();
    const a = new UpdateHistory(3, budget);
    for (let n = 1; n <= 10; n++) a.store(n, bytes(BIG, n), 0, BIG);
    expect(budget.queueBytes).toBe(0);
    expect(budget.evicted).toBe(0);
    expect(a.first).toBe(8);
    expect(budget.bytes).toBe(a.byteSize);
  });

  it('matches a model for random symbols, lengths, capacities and limits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 4_000, max: 80_000 }),
        fc.array(
          fc.record({
            k: fc.integer({ min: 0, max: 4 }),
            len: fc.oneof(
              fc.integer({ min: 1, max: 130 }),
              fc.integer({ min: 1, max: 3 * MAX_STRIDE }),
            ),
          }),
          { minLength: 1, maxLength: 300 },
        ),
        (capacity, limit, stores) => {
          const budget = new HistoryBudget(limit);
          const hs = Array.from({ length: 5 }, () => new UpdateHistory(capacity, budget));
          const model: Uint8Array[][] = hs.map(() => []);
          stores.forEach(({ k, len }, i) => {
            const b = bytes(len, i);
            model[k]!.push(b);
            const n = model[k]!.length;
            expect(Array.from(hs[k]!.store(n, b, 0, len))).toEqual(Array.from(b));
            expect(budget.bytes).toBe(held(budget, hs));
            // Within the limit, or down to the last values.
            if (budget.bytes > limit) for (const h of hs) expect(h.held).toBeLessThanOrEqual(1);
            for (let j = 0; j < hs.length; j++) {
              const h = hs[j]!;
              const all = model[j]!;
              if (all.length === 0) continue;
              // The newest updates, contiguous, at most `capacity`, the last always.
              expect(h.lastSeq).toBe(all.length);
              expect(h.held).toBeGreaterThanOrEqual(1);
              expect(h.held).toBeLessThanOrEqual(capacity);
              for (let s = h.first; s <= h.lastSeq; s++) {
                expect(Array.from(h.get(s)!)).toEqual(Array.from(all[s - 1]!));
              }
              expect(h.get(h.first - 1)).toBeUndefined();
            }
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
