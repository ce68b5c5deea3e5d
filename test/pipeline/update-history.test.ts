/**
 * UpdateHistory: the per-symbol ring behind the last-value cache and `since`
 * recovery. Checked against a model (a plain array of the stored updates).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_STRIDE, SLOT_BYTES, UpdateHistory } from '../../src/pipeline/update-history.js';

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

describe('UpdateHistory', () => {
  it('is empty at first', () => {
    const h = new UpdateHistory(4);
    expect(h.first).toBe(0);
    expect(h.lastSeq).toBe(0);
    expect(h.last.length).toBe(0);
    expect(h.get(1)).toBeUndefined();
  });

  it('keeps the last `capacity` updates and forgets older ones', () => {
    const h = new UpdateHistory(3);
    for (let n = 1; n <= 5; n++) h.store(n, bytes(20, n), 0, 20);
    expect(h.first).toBe(3);
    expect(h.lastSeq).toBe(5);
    expect(h.get(2)).toBeUndefined();
    for (let n = 3; n <= 5; n++) expect(Array.from(h.get(n)!)).toEqual(Array.from(bytes(20, n)));
    expect(h.get(6)).toBeUndefined();
  });

  it('capacity 0 or 1 keeps the last value only', () => {
    const h = new UpdateHistory(0);
    h.store(1, bytes(10, 1), 0, 10);
    h.store(2, bytes(10, 2), 0, 10);
    expect(h.first).toBe(2);
    expect(Array.from(h.last)).toEqual(Array.from(bytes(10, 2)));
  });

  it('reuses a slot view while the length is unchanged (no allocation per update)', () => {
    const h = new UpdateHistory(1);
    const v1 = h.store(1, bytes(40, 1), 0, 40);
    const v2 = h.store(2, bytes(40, 2), 0, 40);
    expect(v2).toBe(v1);
    expect(Array.from(v2)).toEqual(Array.from(bytes(40, 2)));
  });

  it('a sequence jump starts the history afresh', () => {
    const h = new UpdateHistory(8);
    h.store(1, bytes(10, 1), 0, 10);
    h.store(2, bytes(10, 2), 0, 10);
    h.store(10, bytes(10, 10), 0, 10);
    expect(h.first).toBe(10);
    expect(h.get(2)).toBeUndefined();
    expect(Array.from(h.get(10)!)).toEqual(Array.from(bytes(10, 10)));
  });

  it('one long update does not make every slot long: it is stored out of line', () => {
    const h = new UpdateHistory(100);
    const big = bytes(33_000, 7);
    h.store(1, big, 0, big.length);
    for (let n = 2; n <= 100; n++) h.store(n, bytes(70, n), 0, 70);
    expect(Array.from(h.get(1)!)).toEqual(Array.from(big));
    // The ring holds 100 slots of 128 bytes (and their bookkeeping), plus the one long update.
    expect(h.byteSize).toBe(100 * (128 + SLOT_BYTES) + big.length);
    // Once it leaves the ring, only the slots remain.
    h.store(101, bytes(70, 101), 0, 70);
    expect(h.get(1)).toBeUndefined();
    expect(h.byteSize).toBe(100 * (128 + SLOT_BYTES));
  });

  it('grows its stride up to MAX_STRIDE for updates that fit', () => {
    const h = new UpdateHistory(4);
    for (let n = 1; n <= 4; n++) h.store(n, bytes(MAX_STRIDE, n), 0, MAX_STRIDE);
    expect(h.byteSize).toBe(4 * (MAX_STRIDE + SLOT_BYTES));
    const v1 = h.store(5, bytes(MAX_STRIDE, 5), 0, MAX_STRIDE);
    const v2 = h.store(9, bytes(MAX_STRIDE, 9), 0, MAX_STRIDE);
    expect(v1.buffer).toBe(v2.buffer);
  });

  it('matches a model for random lengths, capacities and runs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 3 * MAX_STRIDE }), { minLength: 1, maxLength: 120 }),
        (capacity, lengths) => {
          const h = new UpdateHistory(capacity);
          const model: Uint8Array[] = [];
          lengths.forEach((len, i) => {
            const b = bytes(len, i);
            model.push(b);
            expect(Array.from(h.store(i + 1, b, 0, len))).toEqual(Array.from(b));
          });
          const n = lengths.length;
          expect(h.lastSeq).toBe(n);
          expect(h.first).toBe(Math.max(1, n - capacity + 1));
          for (let s = h.first; s <= n; s++) {
            expect(Array.from(h.get(s)!)).toEqual(Array.from(model[s - 1]!));
          }
          expect(Array.from(h.last)).toEqual(Array.from(model[n - 1]!));
        },
      ),
    );
  });
});
