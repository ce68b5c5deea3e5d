import { describe, expect, it } from 'vitest';
import { okReport, renderMarkdown, toRow, type Doc, type Row } from './suite.js';

function capacity(server: string, batch: number, dps: number, status = 'ok'): Row {
  const row = toRow(
    server,
    'capacity',
    { subs: 100, symbols: 10, batch },
    okReport({ deliveries_per_s: dps }),
    null,
  );
  return { ...row, capacity_rate: dps / 100, status };
}

const doc = (rows: Row[]): Doc => ({
  date: '2026-12-07T00:00:00.000Z',
  machine: 'test machine',
  node: 'v20',
  pinning: 'server core 0, loader core 1',
  plan: 'full',
  reps: 3,
  wall_s: 1,
  floor_us: { p50: 30, p99: 60, p999: 100 },
  rows,
});

describe('bench/results Markdown', () => {
  it('puts the floors at the head of the latency table, each rate against its paced floor', () => {
    const lat = (server: string, rate: number, p99: number) =>
      toRow(
        server,
        'latency',
        { subs: 10, symbols: 10, batch: 1 },
        okReport({ latency_us: { p50: 50, p99, p999: 200, max: 300, count: 100 } }),
        rate,
      );
    const md = renderMarkdown({
      ...doc([
        lat('tickwire', 10_000, 120),
        lat('uws-raw', 10_000, 90),
        lat('tickwire', 1000, 900),
      ]),
      floor_paced_us: {
        1000: { p50: 80, p99: 1200, p999: 2000 },
        10000: { p50: 40, p99: 60, p999: 90 },
      },
    });
    const lines = md
      .slice(md.indexOf('## Latency'))
      .split('\n')
      .filter((l) => l.startsWith('| '));
    expect(lines[2]).toMatch(/^\| \*\*floor\*\*, back to back \| – \| – \| 30 \| 60 \| 100 \|/);
    expect(lines[3]).toMatch(
      /^\| \*\*floor\*\*, 100 µs sleep between round trips \| 10,000 \| – \| 40 \| 60 \| 90 \|/,
    );
    expect(lines[4]).toMatch(
      /^\| tickwire \| 10,000 \| 10 \| 50 \| 120 \|.* 2\.00× \| 40% \| ok \|$/,
    );
    expect(lines[5]).toMatch(/^\| uws-raw .* 1\.50× \| 40% \| ok \|$/);
    expect(lines[6]).toMatch(
      /^\| \*\*floor\*\*, 1,000 µs sleep between round trips \| 1,000 \| – \| 80 \| 1,200 \|/,
    );
    expect(lines[7]).toMatch(/^\| tickwire \| 1,000 .* 0\.75× \| 40% \| ok \|$/);
  });

  it('states raw uWS capacity against the old harness and tickwire against raw uWS', () => {
    const md = renderMarkdown(
      doc([capacity('uws-raw', 100, 11_000_000), capacity('tickwire', 100, 5_500_000)]),
    );
    expect(md).toContain(
      'raw uWS 11.00 M/s = 10.00× the best any server reached in the Node harness',
    );
    expect(md).toContain('tickwire / raw uWS 0.50×');
  });

  it('gives no ratio for a loader-bound or failed run', () => {
    const md = renderMarkdown(
      doc([capacity('uws-raw', 100, 11_000_000, 'loader-bound'), capacity('tickwire', 100, 5e6)]),
    );
    expect(md).not.toContain('raw uWS 11.00 M/s =');
    expect(md).not.toContain('tickwire / raw uWS');
    expect(md).toContain('**loader-bound**');
  });
});
