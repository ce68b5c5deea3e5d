import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { JournalWriter, type SyncMode } from '../../src/journal/journal-writer.js';
import { appendMany, tempDir, until } from './helpers.js';

interface Event {
  readonly kind: 'written' | 'durable';
  readonly index: number;
  /** The other watermark when the event came. */
  readonly written: number;
  readonly durable: number;
  readonly at: number;
}

async function open(sync: SyncMode, intervalMs?: number) {
  const events: Event[] = [];
  const note = (kind: Event['kind']) => (index: number) => {
    events.push({
      kind,
      index,
      written: writer.writtenIndex,
      durable: writer.durableIndex,
      at: performance.now(),
    });
  };
  // The callbacks run only once `writer` is set.
  const writer = await JournalWriter.open(tempDir(), {
    epoch: `dur-${sync}`,
    sync,
    intervalMs,
    onWritten: note('written'),
    onDurable: note('durable'),
  });
  return { writer, events };
}

test("'always': an index is reported durable only after the write and sync that cover it", async () => {
  const { writer, events } = await open('always');
  for (let turn = 0; turn < 20; turn++) {
    const last = appendMany(writer, 1 + (turn % 7), 'AAPL', 100 * turn).at(-1)!;
    // Nothing is durable the moment append returns.
    expect(writer.durableIndex).toBeLessThan(last);
    if (turn % 3 === 0) await until(() => writer.durableIndex === last);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  await writer.close();
  const last = writer.lastIndex;
  expect([writer.writtenIndex, writer.durableIndex]).toEqual([last, last]);

  let written = 0;
  let durable = 0;
  for (const e of events) {
    if (e.kind === 'written') {
      expect(e.index).toBeGreaterThan(written);
      // Written, not yet synced.
      expect(e.durable).toBeLessThan(e.index);
      written = e.index;
    } else {
      expect(e.index).toBeGreaterThan(durable);
      // Every durable index was reported written before.
      expect(e.index).toBeLessThanOrEqual(written);
      durable = e.index;
    }
    expect(e.durable).toBeLessThanOrEqual(e.written);
  }
  expect(durable).toBe(last);
  // One sync per batch write, not one per record.
  expect(events.filter((e) => e.kind === 'durable').length).toBeLessThan(last);
});

test("'interval': syncs at most every intervalMs, so durable trails written", async () => {
  const { writer, events } = await open('interval', 150);
  appendMany(writer, 3);
  await until(() => writer.durableIndex === 3);
  appendMany(writer, 3, 'AAPL', 4);
  await until(() => writer.durableIndex === 6);
  // When 4-6 were written, the sync covering them had not happened yet.
  expect(events.find((e) => e.kind === 'written' && e.index === 6)).toMatchObject({ durable: 3 });
  const syncs = events.filter((e) => e.kind === 'durable');
  expect(syncs.map((e) => e.index)).toEqual([3, 6]);
  // Timers may fire up to a millisecond early.
  expect(syncs[1]!.at - syncs[0]!.at).toBeGreaterThanOrEqual(148);
  await writer.close();
});

test("'never': nothing is synced until close, which syncs everything", async () => {
  const { writer, events } = await open('never');
  appendMany(writer, 5);
  await until(() => writer.writtenIndex === 5);
  await sleep(30);
  expect(writer.durableIndex).toBe(0);
  expect(events.some((e) => e.kind === 'durable')).toBe(false);
  await writer.close();
  expect(writer.durableIndex).toBe(5);
  expect(events.at(-1)).toMatchObject({ kind: 'durable', index: 5 });
});

test("'never': segments closed by a roll were not synced, so durableIndex stops before them", async () => {
  const writer = await JournalWriter.open(tempDir(), {
    epoch: 'dur-roll',
    sync: 'never',
    maxSegmentBytes: 350, // 4 records of 70 bytes per segment
  });
  appendMany(writer, 10);
  await writer.close();
  expect([writer.writtenIndex, writer.durableIndex]).toEqual([10, 0]);
});
