/** Pure helpers that turn run rows into the Markdown report. */

export function fmtInt(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return Math.round(n).toLocaleString('en-US');
}

export function fmtNum(n, digits = 1) {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toFixed(digits);
}

/** A Markdown table from a header row and body rows (strings). */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** A run lost, duplicated or reordered updates: it has no figure. */
export function failed(row) {
  return row.lost !== 0 || row.reordered > 0 || row.duplicates > 0 || row.error !== undefined;
}

/** Deliveries per second of server CPU: the server's efficiency, independent of the client core. */
export function perCpu(row) {
  return row.cpu_s > 0 ? row.delivered / row.cpu_s : NaN;
}

export function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}

function status(row) {
  if (row.error !== undefined) return `FAILED (${row.error})`;
  if (failed(row))
    return `FAILED (lost ${fmtInt(row.lost)}, reordered ${fmtInt(row.reordered)}, dup ${fmtInt(row.duplicates)})`;
  return 'ok';
}

export function fanoutTable(rows) {
  return table(
    [
      'server',
      'subs',
      'symbols',
      'deliveries/s',
      'deliveries per server CPU s',
      'delivered / expected',
      'server CPU s',
      'peak RSS MB',
      'p99 µs (queueing)',
      'status',
    ],
    rows.map((r) => [
      r.server,
      String(r.subscribers),
      String(r.symbols),
      failed(r) ? '**FAILED**' : fmtInt(r.deliveries_per_s),
      failed(r) ? '—' : fmtInt(perCpu(r)),
      `${fmtInt(r.delivered)} / ${fmtInt(r.expected)}`,
      fmtNum(r.cpu_s, 2),
      fmtNum(r.rss_mb, 0),
      fmtInt(r.latency_us.p99),
      status(r),
    ]),
  );
}

export function latencyTable(rows, floor) {
  const fl = floor ? `${fmtInt(floor.p50)} / ${fmtInt(floor.p99)} / ${fmtInt(floor.p999)}` : 'n/a';
  return table(
    [
      'server',
      'ticks/s',
      'subs',
      'p50 µs',
      'p99 µs',
      'p99.9 µs',
      'max µs',
      'from actual send p50/p99/p99.9 µs',
      'floor RTT p50/p99/p99.9 µs',
      'delivered / expected',
      'server CPU s',
      'peak RSS MB',
      'status',
    ],
    rows.map((r) => {
      const bad = failed(r);
      const l = r.latency_us;
      return [
        r.server,
        fmtInt(r.rate),
        String(r.subscribers),
        bad ? '**FAILED**' : fmtInt(l.p50),
        bad ? '—' : fmtInt(l.p99),
        bad ? '—' : fmtInt(l.p999),
        bad ? '—' : fmtInt(l.max),
        bad
          ? '—'
          : `${fmtInt(r.latency_from_send_us.p50)} / ${fmtInt(r.latency_from_send_us.p99)} / ${fmtInt(r.latency_from_send_us.p999)}`,
        fl,
        `${fmtInt(r.delivered)} / ${fmtInt(r.expected)}`,
        fmtNum(r.cpu_s, 2),
        fmtNum(r.rss_mb, 0),
        status(r),
      ];
    }),
  );
}

export function ingestTable(rows) {
  return table(
    ['server', 'ticks/s accepted', 'delivered / expected', 'server CPU s', 'peak RSS MB', 'status'],
    rows.map((r) => [
      r.server,
      failed(r) ? '**FAILED**' : fmtInt(r.deliveries_per_s),
      `${fmtInt(r.delivered)} / ${fmtInt(r.expected)}`,
      fmtNum(r.cpu_s, 2),
      fmtNum(r.rss_mb, 0),
      status(r),
    ]),
  );
}
