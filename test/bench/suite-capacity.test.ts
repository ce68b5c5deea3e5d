import { describe, expect, it } from 'vitest';
import {
  findCapacity,
  okReport,
  P99_LIMIT_US,
  type LoaderReport,
  type SearchPlan,
} from './suite.js';

const cfg = { subs: 100, symbols: 10, batch: 1 };
const plan: SearchPlan = {
  start: 1000,
  minRate: 100,
  maxRate: 1_000_000,
  probeS: 1,
  warmS: 0,
  tolerance: 0.1,
};

/** A server that holds every rate up to `limit` and fails above it, in the way `fail` says. */
function server(limit: number, fail: (rate: number) => LoaderReport) {
  const seen: number[] = [];
  const probe = (rate: number): Promise<LoaderReport> => {
    seen.push(rate);
    return Promise.resolve(rate <= limit ? okReport() : fail(rate));
  };
  return { probe, seen };
}

const incomplete = (): LoaderReport => okReport({ status: 'incomplete', delivered: 900 });
const slow = (): LoaderReport =>
  okReport({ latency_us: { p50: 5000, p99: P99_LIMIT_US, p999: 20_000, max: 30_000 } });
const loaderBound = (): LoaderReport => okReport({ loader_bound: true, loader_cpu_share: 0.8 });

describe('bench/suite capacity search', () => {
  it('brackets upward by doubling and bisects to within the tolerance below the limit', async () => {
    const s = server(23_000, incomplete);
    const found = await findCapacity(s.probe, cfg, plan);
    expect(found.rate).toBeLessThanOrEqual(23_000);
    expect(found.rate).toBeGreaterThan(23_000 / 1.1 / 1.1); // one rounding step below the bracket
    expect(found.loaderLimited).toBe(false);
    expect(s.seen.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(found.probes.every((p) => p.ok === p.rate <= 23_000)).toBe(true);
  });

  it('halves downward when the first rate fails', async () => {
    const s = server(300, incomplete);
    const found = await findCapacity(s.probe, cfg, plan);
    expect(s.seen.slice(0, 3)).toEqual([1000, 500, 250]);
    expect(found.rate).toBeGreaterThan(250);
    expect(found.rate).toBeLessThanOrEqual(300);
  });

  it('counts p99 at the 10 ms bound as not sustained', async () => {
    const s = server(5000, slow);
    const found = await findCapacity(s.probe, cfg, plan);
    expect(found.rate).toBeLessThanOrEqual(5000);
    expect(found.probes.filter((p) => p.rate > 5000).every((p) => !p.ok)).toBe(true);
  });

  it('says when the loader, not the server, bounded the search', async () => {
    const found = await findCapacity(server(40_000, loaderBound).probe, cfg, plan);
    expect(found.loaderLimited).toBe(true);
    expect(found.rate).toBeLessThanOrEqual(40_000);
    const notLoader = await findCapacity(server(40_000, incomplete).probe, cfg, plan);
    expect(notLoader.loaderLimited).toBe(false);
  });

  it('tries past a loader-bound window above a held rate (frames that grow with the rate)', async () => {
    // Held up to 2000, loader-bound at 4000 and 8000, held again up to 20,000.
    const seen: number[] = [];
    const probe = (rate: number): Promise<LoaderReport> => {
      seen.push(rate);
      if (rate > 20_000) return Promise.resolve(incomplete());
      return Promise.resolve(rate > 2000 && rate <= 8000 ? loaderBound() : okReport());
    };
    const found = await findCapacity(probe, cfg, plan);
    expect(seen.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000]);
    expect(found.rate).toBeGreaterThan(20_000 / 1.1 / 1.1);
    expect(found.rate).toBeLessThanOrEqual(20_000);
    expect(found.loaderLimited).toBe(false);
  });

  it('lets the loader bound the search after LOADER_SKIPS passed-over probes', async () => {
    const s = server(2000, loaderBound);
    const found = await findCapacity(s.probe, cfg, plan);
    // 4000 and 8000 passed over, 16,000 bounds; the bisection then finds 2000.
    expect(s.seen.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(found.rate).toBe(2000);
    expect(found.loaderLimited).toBe(true);
  });

  it('returns 0 when nothing down to the minimum rate holds', async () => {
    const found = await findCapacity(server(10, incomplete).probe, cfg, plan);
    expect(found.rate).toBe(0);
    expect(found.probes.at(-1)?.rate).toBe(plan.minRate);
  });

  it('keeps batch rates whole frames and stops at the maximum rate', async () => {
    const s = server(Infinity, incomplete);
    const found = await findCapacity(
      s.probe,
      { ...cfg, batch: 100 },
      { ...plan, start: 100_000, maxRate: 500_000 },
    );
    expect(found.rate).toBe(500_000);
    expect(s.seen.every((r) => r % 100 === 0)).toBe(true);
  });

  it('warms up at the start rate without judging it', async () => {
    const s = server(0, incomplete);
    const seconds: number[] = [];
    const probe = (rate: number, sec: number) => {
      seconds.push(sec);
      return s.probe(rate);
    };
    await findCapacity(probe, cfg, { ...plan, warmS: 5 });
    expect(seconds[0]).toBe(5);
    expect(seconds.slice(1).every((x) => x === plan.probeS)).toBe(true);
  });
});
