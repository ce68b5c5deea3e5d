/**
 * Fifo: the queue behind feed acks and the sequencer's lanes keeps order
 * through takes, put-backs (a batch that lost the append race) and
 * compaction.
 */
import { describe, expect, test } from 'vitest';
import { Fifo } from '../../src/bus/fifo.js';

describe('Fifo', () => {
  test('push, at, shift and take keep order', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    expect(q.at(0)).toBe(0);
    expect(q.at(9)).toBe(9);
    expect(q.at(10)).toBeUndefined();
    expect(q.shift()).toBe(0);
    expect(q.take(3)).toEqual([1, 2, 3]);
    expect(q.length).toBe(6);
    expect(q.take(100)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  test('a batch put back goes in front of what was queued after it', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5; i++) q.push(i);
    const batch = q.take(3);
    q.push(5);
    q.unshiftAll(batch);
    expect(q.take(100)).toEqual([0, 1, 2, 3, 4, 5]);
    // Also when the queue had been emptied (no free slots in front).
    q.push(7);
    q.unshiftAll([6]);
    expect(q.take(100)).toEqual([6, 7]);
  });

  test('order holds across compactions of a long queue', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 700; i++) q.push(next++);
      const taken = q.take(600);
      if (round % 3 === 0) {
        q.unshiftAll(taken.slice(300)); // the back half goes back
        out.push(...taken.slice(0, 300));
      } else {
        out.push(...taken);
      }
    }
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});
