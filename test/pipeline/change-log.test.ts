/**
 * ChangeLog: each symbol at most once, in the order of its last change; a
 * walk back from the newest change to a stamp visits exactly the distinct
 * symbols changed since, also past the arrays' first size. Nothing is
 * recorded while there is no reader.
 */
import { expect, test } from 'vitest';
import { ChangeLog, NONE } from '../../src/pipeline/change-log.js';

/** Ids changed after `stamp`, newest first, as a throttle pass walks them. */
function since(log: ChangeLog, stamp: number): number[] {
  const out: number[] = [];
  for (let id = log.newest; id !== NONE && log.stampOf(id) > stamp; id = log.older(id)) {
    out.push(id);
  }
  return out;
}

test('a walk visits each symbol changed since the stamp once, newest first', () => {
  const log = new ChangeLog();
  log.addReader();
  expect(log.newest).toBe(NONE);
  expect(since(log, 0)).toEqual([]);
  for (const id of [3, 1, 2]) log.touch(id);
  const stamp = log.clock;
  expect(stamp).toBe(3);
  for (const id of [5, 1, 5, 5, 1, 7]) log.touch(id);
  expect(since(log, stamp)).toEqual([7, 1, 5]);
  expect(since(log, 0)).toEqual([7, 1, 5, 2, 3]);
  // The newest touched again: the list does not change, its stamp does.
  log.touch(7);
  expect(since(log, log.clock - 1)).toEqual([7]);
  expect(log.stampOf(4)).toBe(0);
});

test('ids beyond the first arrays; the oldest moved to the front', () => {
  const log = new ChangeLog();
  log.addReader();
  const ids = [0, 5000, 1023, 1024, 70_000];
  for (const id of ids) log.touch(id);
  expect(since(log, 0)).toEqual([...ids].reverse());
  const stamp = log.clock;
  log.touch(0); // the oldest (no symbol before it)
  log.touch(1024); // from the middle
  expect(since(log, stamp)).toEqual([1024, 0]);
  expect(since(log, 0)).toEqual([1024, 0, 70_000, 1023, 5000]);
  expect(log.stampOf(1_000_000)).toBe(0);
});

test('without readers nothing is recorded; a new reader sees what follows', () => {
  const log = new ChangeLog();
  log.touch(1);
  expect(log.clock).toBe(0);
  expect(since(log, 0)).toEqual([]);
  const first = log.addReader();
  log.touch(2);
  log.touch(3);
  log.removeReader();
  log.touch(4); // nobody reads: not recorded
  log.touch(2);
  expect(log.readers).toBe(0);
  const stamp = log.addReader();
  expect(stamp).toBe(first + 2);
  expect(since(log, stamp)).toEqual([]);
  log.touch(5);
  log.touch(2); // from the middle of what was recorded before
  expect(since(log, stamp)).toEqual([2, 5]);
  expect(since(log, first)).toEqual([2, 5, 3]);
  log.removeReader();
  log.removeReader(); // never below none
  expect(log.readers).toBe(0);
});
