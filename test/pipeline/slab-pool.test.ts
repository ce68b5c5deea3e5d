import { describe, expect, it } from 'vitest';
import { SlabPool } from '../../src/pipeline/slab-pool.js';

describe('SlabPool', () => {
  it('allocates one slab of the configured size up front', () => {
    const pool = new SlabPool(128);
    expect(pool.slabSize).toBe(128);
    expect(pool.allocated).toBe(1);
    expect(pool.slab.length).toBe(128);
    expect(pool.offset).toBe(0);
  });

  it('uses 256 KiB slabs by default', () => {
    const pool = new SlabPool();
    expect(pool.slabSize).toBe(256 * 1024);
    expect(pool.slab.length).toBe(256 * 1024);
  });

  it.each([0, 63, -64, 64.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects slab size %s with a RangeError',
    (size) => {
      expect(() => new SlabPool(size)).toThrow(RangeError);
    },
  );

  it('accepts the smallest legal slab size (64)', () => {
    expect(new SlabPool(64).slabSize).toBe(64);
  });

  it('keeps `view` a DataView over the current slab (new slab, oversized, back to the first)', () => {
    const pool = new SlabPool(256);
    const check = (): void => {
      expect(pool.view.buffer).toBe(pool.slab.buffer);
      expect(pool.view.byteOffset).toBe(0);
      expect(pool.slab.byteOffset).toBe(0);
      expect(pool.view.byteLength).toBe(pool.slab.length);
    };
    check();
    const firstView = pool.view;
    pool.reserve(200);
    pool.commit(200);
    pool.reserve(200); // does not fit: a second slab
    check();
    expect(pool.view).not.toBe(firstView);
    pool.commit(10);
    pool.reserve(1000); // oversized
    check();
    pool.reset();
    pool.reserve(10);
    check();
    expect(pool.view).toBe(firstView);
  });

  it('reuses the same slab and offset after reserve/commit/reset', () => {
    const pool = new SlabPool(256);
    pool.reserve(100);
    const first = pool.slab;
    const firstOffset = pool.offset;
    pool.commit(60);
    pool.reset();
    for (let round = 0; round < 5; round++) {
      pool.reserve(100);
      expect(pool.slab).toBe(first);
      expect(pool.offset).toBe(firstOffset);
      pool.commit(100);
      pool.reset();
    }
    expect(pool.allocated).toBe(1);
  });

  it('places successive reservations after the committed bytes, never overlapping', () => {
    const pool = new SlabPool(1024);
    const regions: { slab: Uint8Array; start: number; end: number }[] = [];
    const sizes = [10, 200, 1, 64, 300, 17, 400, 90, 1024, 5];
    for (const size of sizes) {
      pool.reserve(size);
      const used = Math.max(1, Math.floor(size / 2));
      regions.push({ slab: pool.slab, start: pool.offset, end: pool.offset + used });
      expect(pool.offset + size).toBeLessThanOrEqual(pool.slab.length);
      pool.commit(used);
    }
    for (let i = 0; i < regions.length; i++) {
      for (let j = i + 1; j < regions.length; j++) {
        const a = regions[i]!;
        const b = regions[j]!;
        if (a.slab !== b.slab) continue;
        expect(a.end <= b.start || b.end <= a.start).toBe(true);
      }
    }
  });

  it('moves to a new slab when the current one cannot hold the reservation', () => {
    const pool = new SlabPool(100);
    pool.reserve(60);
    const first = pool.slab;
    pool.commit(60);
    pool.reserve(50);
    const second = pool.slab;
    expect(second).not.toBe(first);
    expect(pool.offset).toBe(0);
    expect(second.length).toBe(100);
    expect(pool.allocated).toBe(2);
    pool.commit(50);
    pool.reserve(50);
    expect(pool.slab).toBe(second);
    expect(pool.offset).toBe(50);
  });

  it('reuses grown slabs after reset instead of allocating again', () => {
    const pool = new SlabPool(100);
    const seen: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) {
      pool.reserve(80);
      seen.push(pool.slab);
      pool.commit(80);
    }
    expect(new Set(seen).size).toBe(3);
    expect(pool.allocated).toBe(3);
    pool.reset();
    for (let k = 0; k < 3; k++) {
      pool.reserve(80);
      expect(pool.slab).toBe(seen[k]);
      expect(pool.offset).toBe(0);
      pool.commit(80);
    }
    expect(pool.allocated).toBe(3);
  });

  it('fills a slab exactly to its end before moving on', () => {
    const pool = new SlabPool(100);
    pool.reserve(40);
    const first = pool.slab;
    pool.commit(40);
    pool.reserve(60);
    expect(pool.slab).toBe(first);
    expect(pool.offset).toBe(40);
  });

  it('gives an oversized reservation its own slab and reuses it for the next large one', () => {
    const pool = new SlabPool(100);
    pool.reserve(10);
    const normal = pool.slab;
    pool.commit(10);

    pool.reserve(500);
    const big = pool.slab;
    expect(big).not.toBe(normal);
    expect(big.length).toBeGreaterThanOrEqual(500);
    expect(pool.offset).toBe(0);
    expect(pool.allocated).toBe(2);
    pool.commit(500);

    // The oversized slab does not disturb the fixed slabs' offsets.
    pool.reserve(10);
    expect(pool.slab).toBe(normal);
    expect(pool.offset).toBe(10);
    pool.commit(10);
    pool.reset();

    pool.reserve(300);
    expect(pool.slab).toBe(big);
    expect(pool.offset).toBe(0);
    pool.commit(300);
    pool.reserve(500);
    expect(pool.slab).toBe(big);
    expect(pool.allocated).toBe(2);
  });

  it('replaces the oversized slab with a larger one when needed', () => {
    const pool = new SlabPool(100);
    pool.reserve(200);
    const big = pool.slab;
    pool.reserve(1000);
    const bigger = pool.slab;
    expect(bigger).not.toBe(big);
    expect(bigger.length).toBeGreaterThanOrEqual(1000);
    expect(pool.allocated).toBe(3);
    pool.reserve(200);
    expect(pool.slab).toBe(bigger);
    expect(pool.allocated).toBe(3);
  });
});
