import { expect, test } from 'vitest';
import { JournalErrorCode } from '../../src/journal/errors.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { bytes, readAll, recordSize, tempDir, until } from './helpers.js';

test('saturated past maxBufferedBytes, refused past twice that, and clear once written', async () => {
  const dir = tempDir();
  const bound = 64 * 1024;
  const writer = await JournalWriter.open(dir, {
    epoch: 'bp-1',
    sync: 'never',
    maxBufferedBytes: bound,
    flushBytes: 16 * 1024,
  });
  const update = bytes(100, 1);
  const size = recordSize('AAPL', 100);

  // All in one turn: the first write may start (flushBytes) but cannot
  // complete, so the backlog grows.
  let n = 0;
  while (!writer.saturated) writer.append('AAPL', ++n, n, update);
  expect(writer.bufferedBytes).toBeGreaterThanOrEqual(bound);
  expect(n).toBe(Math.ceil(bound / size));

  let refused: unknown;
  try {
    for (;;) writer.append('AAPL', ++n, n, update);
  } catch (err) {
    refused = err;
    n--;
  }
  expect(refused).toMatchObject({ code: JournalErrorCode.Saturated });
  expect(writer.bufferedBytes).toBeLessThanOrEqual(2 * bound);
  expect(writer.lastIndex).toBe(n);

  // Once the writes catch up, appends are welcome again.
  await until(() => writer.bufferedBytes === 0);
  expect(writer.saturated).toBe(false);
  expect(writer.append('AAPL', ++n, n, update)).toBe(n);
  await writer.close();
  expect(readAll(dir).map((r) => r.n)).toEqual([...Array(n).keys()].map((i) => i + 1));
});
