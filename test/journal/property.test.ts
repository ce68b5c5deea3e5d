import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { crc32, crc32Of } from '../../src/journal/crc32.js';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { hex, readAll, tempDir } from './helpers.js';

const record = fc.record({
  symbol: fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
    .filter((s) => Buffer.byteLength(s) <= 64),
  n: fc.maxSafeNat(),
  r: fc.maxSafeNat(),
  update: fc.uint8Array({ minLength: 1, maxLength: 700 }),
});

test('random records, segment sizes and reopenings round-trip exactly', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(record, { maxLength: 40 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 100, max: 3000 }),
      fc.constantFrom('always', 'interval', 'never' as const),
      async (sessions, maxSegmentBytes, sync) => {
        const dir = tempDir();
        const written: { index: number; symbol: string; n: number; r: number; update: string }[] =
          [];
        // Each session is one writer's life: reopening must carry the index on.
        for (const session of sessions) {
          const writer = await JournalWriter.open(dir, { epoch: 'prop-1', maxSegmentBytes, sync });
          for (const [i, rec] of session.entries()) {
            const index = writer.append(rec.symbol, rec.n, rec.r, rec.update);
            written.push({ index, ...rec, update: hex(rec.update) });
            if (i % 9 === 8) await new Promise((resolve) => setImmediate(resolve));
          }
          await writer.close();
        }
        expect(written.map((w) => w.index)).toEqual(written.map((_, i) => i + 1));
        expect(readAll(dir)).toEqual(written);
        const reader = JournalReader.open(dir);
        expect([reader.lastIndex, reader.tornTail]).toEqual([written.length, undefined]);
        const segments = reader.segments;
        for (const [i, seg] of segments.entries()) {
          // A segment passes its limit only when it holds a single record.
          const next = segments[i + 1]?.firstIndex ?? reader.lastIndex + 1;
          if (seg.bytes > maxSegmentBytes) expect(next - seg.firstIndex).toBe(1);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('the CRC is the standard CRC-32, the same in JS and in zlib, whole or continued', () => {
  expect(crc32(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), fc.nat(), (data, cut) => {
      const at = data.length === 0 ? 0 : cut % data.length;
      const whole = zlib.crc32(data);
      expect(crc32(data, 0, data.length)).toBe(whole);
      expect(crc32Of(data.subarray(at), crc32(data, 0, at))).toBe(whole);
    }),
    { numRuns: 300 },
  );
});
