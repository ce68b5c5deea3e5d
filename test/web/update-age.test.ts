/**
 * web/update-age.ts: an update's age is the server's clock minus its `r`
 * (µs), with the server's clock estimated from /stats/stream `time`
 * readings, whatever the browser's own clock says. The page wiring is in
 * dashboard-age-browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ServerClock, ageMs, fmtAge } from '../../web/update-age.js';

const R_US = 1_800_000_000_000_000; // an update's r: 2027-01-15, in µs
const R_MS = R_US / 1000;

describe('ageMs', () => {
  it('is the server time minus r (µs → ms)', () => {
    expect(ageMs(R_US, R_MS + 4200)).toBe(4200);
    expect(ageMs(R_US + 500, R_MS + 1)).toBe(0.5);
  });

  it('is never negative (r a little ahead of the estimate)', () => {
    expect(ageMs(R_US, R_MS - 30)).toBe(0);
  });
});

describe('ServerClock', () => {
  it('without a reading, is the browser clock', () => {
    expect(new ServerClock().now(12_345)).toBe(12_345);
  });

  it('follows the server clock, not the browser clock, once read', () => {
    const clock = new ServerClock();
    const browserMs = Date.UTC(2001, 0, 1); // a browser years off
    clock.observe(R_MS + 4200, browserMs);
    expect(ageMs(R_US, clock.now(browserMs))).toBe(4200);
    expect(ageMs(R_US, clock.now(browserMs + 2000))).toBe(6200);
  });

  it('takes the reading with the shortest trip (largest offset) of the last ten', () => {
    const clock = new ServerClock();
    clock.observe(10_000, 1_000); // offset 9000 (fast trip)
    clock.observe(11_000, 2_050); // offset 8950 (50 ms slower)
    expect(clock.now(3_000)).toBe(12_000);
    // Ten more readings push the first out.
    for (let i = 0; i < 10; i++) clock.observe(20_000 + i * 1000, 11_100 + i * 1000);
    expect(clock.now(30_000)).toBe(38_900);
  });

  it('ignores readings that are not numbers', () => {
    const clock = new ServerClock();
    clock.observe(Number.NaN, 5);
    clock.observe(5, Number.POSITIVE_INFINITY);
    expect(clock.now(7)).toBe(7);
  });
});

describe('fmtAge', () => {
  it.each([
    [0, '0 ms'],
    [849.6, '850 ms'],
    [4200, '4.2 s'],
    [59_940, '59.9 s'],
    [60_000, '>1 min'],
  ])('%d ms reads %s', (ms, text) => {
    expect(fmtAge(ms)).toBe(text);
  });
});
