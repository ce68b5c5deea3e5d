/**
 * The cost table divides each row by raw uWS's row at the same load: with
 * cost rows at two rates (2 M and 10 M deliveries/s), each ratio uses raw
 * uWS's row of its own rate.
 */
import { describe, expect, it } from 'vitest';
import { okReport, renderMarkdown, toRow, type Row } from './suite.js';

const cost = (server: string, rate: number, ns: number): Row =>
  toRow(
    server,
    'cost',
    { subs: 100, symbols: 10, batch: 100 },
    okReport({ server_cpu_ns_per_delivery: ns, deliveries_per_s: rate * 100 }),
    rate,
  );

describe('bench/results Markdown, cost table', () => {
  it('compares each cost row with raw uWS at the same rate', () => {
    const md = renderMarkdown({
      date: '2026-12-08T00:00:00.000Z',
      machine: 'test machine',
      node: 'v20',
      pinning: 'server core 0, loader core 1',
      plan: 'full',
      reps: 3,
      wall_s: 1,
      floor_us: { p50: 30, p99: 60, p999: 100 },
      rows: [
        cost('tickwire', 20_000, 150),
        cost('uws-raw', 20_000, 100),
        cost('tickwire', 100_000, 60),
        cost('uws-raw', 100_000, 40),
        cost('uws-raw-padded', 100_000, 50),
      ],
    });
    const lines = md
      .slice(md.indexOf('## Cost'))
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| server') && !l.startsWith('| ---'));
    expect(lines[0]).toMatch(/^\| tickwire \| 100 \| 100 \| 20,000 \|.*\| 1\.50× \|/);
    expect(lines[2]).toMatch(/^\| tickwire \| 100 \| 100 \| 100,000 \|.*\| 1\.50× \|/);
    expect(lines[4]).toMatch(/^\| uws-raw-padded \| 100 \| 100 \| 100,000 \|.*\| 1\.25× \|/);
  });
});
