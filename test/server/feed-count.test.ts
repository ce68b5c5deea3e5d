/**
 * What a feed frame counts for before the pipeline counts it (feed-count.ts):
 * the tokens it is charged and, when refused whole, the ticks it adds to
 * the counters. A header's claim is never taken for a count.
 */
import { describe, expect, test } from 'vitest';
import { MAX_BATCH } from '../../src/protocol/codes.js';
import { FrameStatus, TickScanner } from '../../src/protocol/tick-scanner.js';
import { chargeableTicks, declaredTicks, receivedTicks } from '../../src/server/feed-count.js';
import { pack } from '../helpers/clients.js';

const tick = { s: 'A', p: 1 };
const batchOf = (n: number): Buffer => pack(Array.from({ length: n }, () => tick));
/** Array header claiming `n` elements, then `n` reserved bytes (c1): well-sized, malformed. */
const broken = (n: number): Buffer =>
  Buffer.concat([Buffer.from([0xdc, n >> 8, n & 0xff]), Buffer.alloc(n, 0xc1)]);

describe('declaredTicks: the header, unchecked', () => {
  test.each([
    ['a map', pack(tick), 1],
    ['fixarray', batchOf(2), 2],
    ['empty array', pack([]), 0],
    ['array16', batchOf(300), 300],
    ['array32 header', Uint8Array.of(0xdd, 0x00, 0x01, 0x00, 0x02), 65538],
    ['array32, high byte set', Uint8Array.of(0xdd, 0xff, 0, 0, 0), 0xff000000],
    ['map16', Uint8Array.of(0xde, 0x00, 0x01), 1],
    ['truncated array16', Uint8Array.of(0xdc, 0x01), 0],
    ['truncated array32', Uint8Array.of(0xdd, 0, 0, 1), 0],
    ['a scalar', pack(42), 0],
    ['nothing', new Uint8Array(0), 0],
  ])('%s', (_what, bytes, expected) => {
    expect(declaredTicks(bytes)).toBe(expected);
  });
});

describe('chargeableTicks: tokens before the scan', () => {
  test.each([
    ['a map', pack(tick), 1],
    ['a batch of 3', batchOf(3), 3],
    ['a batch of MAX_BATCH', batchOf(MAX_BATCH), MAX_BATCH],
    ['empty array', pack([]), 0],
    [
      'dd ff ff ff ff: 4,294,967,295 claimed in 5 bytes',
      Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
      0,
    ],
    ['dc 10 00: 4,096 claimed in 3 bytes', Uint8Array.of(0xdc, 0x10, 0x00), 0],
    [
      'fixarray of 15 with 14 bytes after it',
      Uint8Array.of(0x9f, ...new Array<number>(14).fill(0xc0)),
      0,
    ],
    ['a batch over MAX_BATCH (payload_too_large)', batchOf(MAX_BATCH + 1), 0],
    ['truncated array32', Uint8Array.of(0xdd, 0, 0, 1), 0],
    ['a scalar', pack(42), 0],
    ['nothing', new Uint8Array(0), 0],
    // The header fits the bytes: charged, and refunded once the scan finds it bad.
    ['a well-sized batch of broken elements', broken(100), 100],
  ])('%s', (_what, bytes, expected) => {
    expect(chargeableTicks(bytes)).toBe(expected);
  });
});

describe('receivedTicks: what a refused frame adds to ticks.received', () => {
  const scanner = new TickScanner();
  const counted = (bytes: Uint8Array): [FrameStatus, number] => {
    const status = scanner.scan(bytes);
    return [status, receivedTicks(bytes, status, scanner)];
  };

  test.each([
    ['dd ff ff ff ff', Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff), FrameStatus.BadFrame, 0],
    ['dc 10 00', Uint8Array.of(0xdc, 0x10, 0x00), FrameStatus.BadFrame, 0],
    ['a well-sized batch of broken elements', broken(100), FrameStatus.BadFrame, 0],
    ['c1', Uint8Array.of(0xc1), FrameStatus.BadFrame, 0],
    ['a map', pack(tick), FrameStatus.Ok, 1],
    ['a batch of 3, one tick invalid', pack([tick, { s: 'B' }, tick]), FrameStatus.Ok, 3],
    ['empty array', pack([]), FrameStatus.Ok, 0],
    ['a batch over MAX_BATCH', batchOf(MAX_BATCH + 1), FrameStatus.TooLarge, MAX_BATCH + 1],
    [
      'array32 of 70,000 nils',
      Buffer.concat([Buffer.from([0xdd, 0, 1, 0x11, 0x70]), Buffer.alloc(70_000, 0xc0)]),
      FrameStatus.TooLarge,
      70_000,
    ],
  ])('%s', (_what, bytes, status, ticks) => {
    expect(counted(bytes)).toEqual([status, ticks]);
  });
});
