/**
 * A merged results file holds latency rows of several runs: each server
 * row's ratio is against the paced floor of its own run (`floor_us`), the
 * file's newest floor only for rows that carry none.
 */
import { describe, expect, it } from 'vitest';
import { okReport, renderMarkdown, toRow, type Row } from './suite.js';

const lat = (
  server: string,
  p99: number,
  floor?: { p50: number; p99: number; p999: number },
): Row => ({
  ...toRow(
    server,
    'latency',
    { subs: 10, symbols: 10, batch: 1 },
    okReport({ latency_us: { p50: 50, p99, p999: 200, max: 300, count: 100 } }),
    10_000,
  ),
  ...(floor === undefined ? {} : { floor_us: floor }),
});

describe('bench/results Markdown, latency ratios in a merged file', () => {
  it("divides by the row's own run's paced floor when it has one", () => {
    const md = renderMarkdown({
      date: '2026-12-08T00:00:00.000Z',
      machine: 'test machine',
      node: 'v20',
      pinning: 'server core 0, loader core 1',
      plan: 'full',
      reps: 3,
      wall_s: 1,
      floor_us: { p50: 30, p99: 60, p999: 100 },
      floor_paced_us: { 10000: { p50: 40, p99: 100, p999: 200 } },
      rows: [lat('old-run', 300, { p50: 30, p99: 50, p999: 90 }), lat('new-run', 300)],
    });
    const lines = md
      .split('\n')
      .filter((l) => l.startsWith('| old-run') || l.startsWith('| new-run'));
    expect(lines[0]).toMatch(/\| 6\.00× \|/);
    expect(lines[1]).toMatch(/\| 3\.00× \|/);
  });
});
