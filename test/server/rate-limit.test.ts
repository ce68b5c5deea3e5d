/**
 * The feed rate limit's parts, without sockets: the token bucket's refill,
 * debt, refund and persistence rule (what a frame is charged:
 * feed-count.test.ts).
 */
import { describe, expect, test } from 'vitest';
import { FeedRateLimit, PERSIST_MS, QUIET_MS, RateVerdict } from '../../src/server/rate-limit.js';

describe('FeedRateLimit', () => {
  test('starts full, refills at the rate, never past one second', () => {
    const r = new FeedRateLimit(1000, 0);
    expect(r.take(1000, 0)).toBe(RateVerdict.Ok);
    expect(r.take(1, 0)).toBe(RateVerdict.Refused);
    expect(r.take(100, 100)).toBe(RateVerdict.Ok);
    expect(r.available(10_000)).toBe(1000);
  });

  test('a batch larger than the bucket passes only when full, then pays its debt', () => {
    const r = new FeedRateLimit(100, 0);
    expect(r.take(300, 0)).toBe(RateVerdict.Ok);
    expect(r.take(1, 1000)).toBe(RateVerdict.Refused); // still 100 in debt
    expect(r.take(1, 2100)).toBe(RateVerdict.Ok);
  });

  test('a refund gives the tokens back, debt included, never past a full bucket', () => {
    const r = new FeedRateLimit(100, 0);
    expect(r.take(300, 0)).toBe(RateVerdict.Ok); // 200 in debt
    r.refund(300);
    expect(r.available(0)).toBe(100);
    expect(r.take(60, 0)).toBe(RateVerdict.Ok);
    r.refund(10);
    expect(r.available(0)).toBe(50);
  });

  test('refusals with no quiet gap for PERSIST_MS say close, accepted frames in between or not', () => {
    const r = new FeedRateLimit(10, 0);
    const verdicts: [number, RateVerdict][] = [];
    // 100 single-tick frames per second against 10/s.
    for (let t = 0; t <= PERSIST_MS + 1500; t += 10) verdicts.push([t, r.take(1, t)]);
    const ok = verdicts.filter(([, v]) => v === RateVerdict.Ok);
    expect(ok.length).toBeGreaterThan(10 + PERSIST_MS / 100 - 2); // the burst, then ~10/s
    const firstRefused = verdicts.find(([, v]) => v !== RateVerdict.Ok)![0];
    const firstClose = verdicts.find(([, v]) => v === RateVerdict.Close)![0];
    expect(firstClose - firstRefused).toBeGreaterThanOrEqual(PERSIST_MS);
    expect(firstClose - firstRefused).toBeLessThan(PERSIST_MS + 20);
  });

  test('a quiet gap between refusals restarts the streak', () => {
    const r = new FeedRateLimit(10, 0);
    expect(r.take(10, 0)).toBe(RateVerdict.Ok);
    expect(r.take(100, 0)).toBe(RateVerdict.Refused);
    // Refusals QUIET_MS + 1 apart never add up to a streak.
    for (let t = QUIET_MS + 1; t < 4 * PERSIST_MS; t += QUIET_MS + 1) {
      r.take(10, t - 1); // empty the bucket again
      expect(r.take(100, t)).toBe(RateVerdict.Refused);
    }
  });
});
