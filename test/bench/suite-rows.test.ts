import { describe, expect, it } from 'vitest';
import { combine, loaderOpts, okReport, statusOf, sustains, toRow } from './suite.js';

const cfg = { subs: 100, symbols: 10, batch: 100 };

describe('bench/suite rows', () => {
  it('names the status the way bench/results/*.json keeps it', () => {
    expect(statusOf(okReport())).toBe('ok');
    expect(statusOf(okReport({ status: 'incomplete' }))).toBe('incomplete');
    expect(statusOf(okReport({ status: 'error', error: 'refused' }))).toBe('error');
    expect(statusOf(okReport({ loader_bound: true }))).toBe('loader-bound');
    expect(statusOf(okReport({ status: 'incomplete', loader_bound: true }))).toBe('loader-bound');
  });

  it('sustains only complete, in-order, not loader-bound runs with p99 under 10 ms', () => {
    expect(sustains(okReport())).toBe(true);
    expect(sustains(okReport({ status: 'incomplete' }))).toBe(false);
    expect(sustains(okReport({ loader_bound: true }))).toBe(false);
    expect(
      sustains(okReport({ latency_us: { p50: 1, p99: 9999, p999: 1, max: 1, count: 5 } })),
    ).toBe(true);
    expect(sustains(okReport({ latency_us: { p50: 1, p99: 10_000, p999: 1, max: 1 } }))).toBe(
      false,
    );
  });

  it('builds a row with the issue-13 field names', () => {
    const row = toRow('tickwire', 'cost', cfg, okReport({ deliveries_per_s: 1999999.6 }), 20_000);
    expect(Object.keys(row)).toEqual([
      'server',
      'scenario',
      'subscribers',
      'symbols',
      'ticks_per_frame',
      'rate',
      'deliveries_per_s',
      'server_cpu_ns_per_delivery',
      'loader_cpu_share',
      'latency_us',
      'delivered',
      'expected',
      'status',
    ]);
    expect(row.deliveries_per_s).toBe(2_000_000);
    expect(Object.keys(row.latency_us)).toEqual(['p50', 'p99', 'p999', 'max']);
  });

  it('has no ns per delivery when the loader could not read the server', () => {
    const row = toRow('tickwire', 'cost', cfg, okReport({ server_cpu_ns_per_delivery: -1 }), 1);
    expect(row.server_cpu_ns_per_delivery).toBeNull();
  });

  it('combines repetitions into medians, sums counts and keeps the worst status', () => {
    const rows = [130, 110, 170].map((ns, i) =>
      toRow(
        'tickwire',
        'cost',
        cfg,
        okReport({ server_cpu_ns_per_delivery: ns, deliveries_per_s: 1e6 + i }),
        1,
      ),
    );
    const c = combine(rows);
    expect(c.server_cpu_ns_per_delivery).toBe(130);
    expect(c.deliveries_per_s).toBe(1_000_001);
    expect(c.delivered).toBe(3000);
    expect(c.reps).toBe(3);
    expect(c.spread?.server_cpu_ns_per_delivery).toEqual([110, 170]);
    expect(c.status).toBe('ok');
    const worse = combine([
      ...rows,
      toRow('tickwire', 'cost', cfg, okReport({ status: 'incomplete' }), 1),
    ]);
    expect(worse.status).toBe('incomplete');
    expect(worse.server_cpu_ns_per_delivery).toBe(125); // median of four
  });

  it('reads in sweeps and samples order checks only where the rate calls for it', () => {
    expect(loaderOpts(cfg, 1000, { latency: true })).toEqual({
      readUs: 0,
      sample: 10,
      sweepUs: 1800,
    });
    expect(loaderOpts({ ...cfg, subs: 10 }, 10_000, { latency: true })).toEqual({
      readUs: 0,
      sample: 10,
      sweepUs: 200,
    });
    expect(loaderOpts({ ...cfg, subs: 5 }, 10_000, { latency: true })).toEqual({
      readUs: 0,
      sample: 1,
      sweepUs: 0,
    });
    expect(loaderOpts(cfg, 1000).sample).toBe(1);
    expect(loaderOpts(cfg, 1000).readUs).toBeGreaterThan(0);
    expect(loaderOpts(cfg, 20_000).sample).toBe(2); // 2 M updates/s: walk 1 M/s
    expect(loaderOpts(cfg, 300_000).sample).toBe(30);
    expect(loaderOpts({ ...cfg, subs: 10 }, 10_000_000).sample).toBe(10); // never none
  });

  it('marks a cost or latency run that fell behind the offered rate, even if the drain caught up', () => {
    const kept = toRow(
      'ws-json',
      'latency',
      { ...cfg, batch: 1 },
      okReport({ deliveries_per_s: 96_000 }),
      1000,
    );
    expect(kept.status).toBe('ok');
    const behind = toRow(
      'ws-json',
      'latency',
      { ...cfg, batch: 1 },
      okReport({ deliveries_per_s: 76_000 }),
      1000,
    );
    expect(behind.status).toBe('behind');
    expect(toRow('ws-json', 'cost', cfg, okReport({ deliveries_per_s: 1e6 }), 20_000).status).toBe(
      'behind',
    );
    // Overload is behind by design; capacity rows carry no rate.
    expect(
      toRow('ws-json', 'overload', cfg, okReport({ deliveries_per_s: 1e6 }), 20_000).status,
    ).toBe('ok');
  });

  it('has no latency figures when nothing was sampled', () => {
    const row = toRow(
      'x',
      'cost',
      cfg,
      okReport({ latency_us: { p50: 0, p99: 0, p999: 0, max: 0, count: 0 } }),
      1,
    );
    expect(row.latency_us).toEqual({ p50: null, p99: null, p999: null, max: null });
  });

  it('leaves a repetition that could not run out of the medians, not out of the status', () => {
    const good = [120, 140].map((ns) =>
      toRow(
        'tickwire',
        'cost',
        cfg,
        okReport({ server_cpu_ns_per_delivery: ns, deliveries_per_s: 2e6 }),
        20_000,
      ),
    );
    const failed = toRow(
      'tickwire',
      'cost',
      cfg,
      okReport({ status: 'error', deliveries_per_s: 0, error: 'feed not open' }),
      20_000,
    );
    const c = combine([...good, failed]);
    expect(c.server_cpu_ns_per_delivery).toBe(130);
    expect(c.deliveries_per_s).toBe(2e6);
    expect(c.status).toBe('error');
    expect(c.reps).toBe(3);
  });
});
