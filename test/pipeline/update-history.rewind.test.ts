/**
 * A numbering that goes back (a NATS rewind resets a symbol's n) with an
 * update longer than the ring's stride: the relayout for the new stride must
 * not copy the old numbering back nor take `first` from it (review finding:
 * first=7, last=3 and no last value, so snapshots of the symbol threw).
 */
import { expect, it } from 'vitest';
import { UpdateHistory } from '../../src/pipeline/update-history.js';

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

it('a rewind with a longer update holds exactly the new update', () => {
  const h = new UpdateHistory(4);
  for (let n = 1; n <= 10; n++) h.store(n, bytes(40, n), 0, 40);
  const long = bytes(200, 99);
  h.store(3, long, 0, long.length);
  expect(h.first).toBe(3);
  expect(h.lastSeq).toBe(3);
  expect(Array.from(h.last)).toEqual(Array.from(long));
  expect(Array.from(h.get(3)!)).toEqual(Array.from(long));
  for (const n of [1, 2, 4, 7, 10]) expect(h.get(n)).toBeUndefined();
  h.store(4, bytes(40, 4), 0, 40);
  expect(h.first).toBe(3);
  expect(h.lastSeq).toBe(4);
});
