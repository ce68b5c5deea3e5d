/**
 * Split subscribe requests stay within the byte limit in both encodings,
 * whatever the symbols, sequence numbers, throttle and epoch.
 */
import { expect, it } from 'vitest';
import { MAX_EPOCH_LENGTH } from '../../../src/protocol/control.js';
import { packr } from '../src/codec.js';
import { requestBytes, splitSubscribe } from '../src/subscribe-requests.js';

it('every request fits, in JSON and MessagePack, and together they hold every symbol once', () => {
  for (const length of [1, 8, 31, 32]) {
    // Distinct symbols of `length` characters (only 36 of length 1).
    const unique = [
      ...new Set(
        Array.from({ length: 2000 }, (_, i) =>
          `${i.toString(36)}.${'x'.repeat(32)}`.slice(0, length),
        ),
      ),
    ];
    const since = new Map(unique.map((s, i) => [s, i % 2 === 0 ? Number.MAX_SAFE_INTEGER : i]));
    const parts = { throttle: 2_147_483_647, since, epoch: 'e'.repeat(MAX_EPOCH_LENGTH) };
    for (const max of [1024, 16 * 1024]) {
      const requests = splitSubscribe(unique, parts, max);
      expect(requests.flatMap((r) => r.symbols)).toEqual(unique);
      for (const r of requests) {
        const json = new TextEncoder().encode(JSON.stringify(r)).length;
        const msgpack = (packr.pack(r) as Uint8Array).length;
        expect(json).toBeLessThanOrEqual(requestBytes(r.symbols, parts));
        expect(requestBytes(r.symbols, parts)).toBeLessThanOrEqual(max);
        expect(msgpack).toBeLessThanOrEqual(json);
        expect(Object.keys(r.since ?? {})).toEqual(r.symbols);
        expect(r.epoch).toBe(parts.epoch);
      }
    }
  }
});

it('without since: no since and no epoch in the requests', () => {
  const requests = splitSubscribe(['A', 'B'], { throttle: 0, epoch: 'e1' }, 16 * 1024);
  expect(requests).toEqual([{ op: 'subscribe', symbols: ['A', 'B'] }]);
});
