/**
 * bench/results/*.md from the JSON document run.mjs writes: one table per
 * scenario and the ratios users compare. Pure functions of the document.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** "AMD EPYC ..., 2 vCPU, 24 GiB, Linux 6.x" (with the VM's note when it has one). */
export function machineInfo() {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    // not Linux: os.cpus() is enough
  }
  return `${model}, ${os.cpus().length} vCPU, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
}

/** The best any server reached in the Node harness this replaced (bench/results, 2026-12-04). */
export const OLD_HARNESS_BEST = 1_100_000;

const int = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const mps = (x) => (x === null || x === undefined ? '–' : `${(x / 1e6).toFixed(2)} M`);
const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`);
const ratio = (a, b) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

function table(head, body) {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const status = (r) => (r.status === 'ok' ? 'ok' : `**${r.status}**`);
const lat = (r) =>
  `${int(r.latency_us.p50)} / ${int(r.latency_us.p99)} / ${int(r.latency_us.p999)} / ${int(r.latency_us.max)}`;
const spread = (r) =>
  r.spread?.deliveries_per_s
    ? ` (${mps(r.spread.deliveries_per_s[0])}–${mps(r.spread.deliveries_per_s[1])})`
    : '';

export function renderMarkdown(doc) {
  const rows = doc.rows;
  const of = (scenario) => rows.filter((r) => r.scenario === scenario);
  const find = (scenario, server, subs, batch, symbols = 10) =>
    rows.find(
      (r) =>
        r.scenario === scenario &&
        r.server === server &&
        r.subscribers === subs &&
        r.ticks_per_frame === batch &&
        r.symbols === symbols,
    );
  const ok = (r) => (r && r.status === 'ok' ? r.deliveries_per_s : NaN);
  const out = [
    `# tickwire benchmark (${doc.plan})`,
    '',
    `- Date: ${doc.date}; machine: ${doc.machine} (shared, noisy); Node ${doc.node}`,
    `- Pinning: ${doc.pinning}; every figure is the median of ${doc.reps} run(s), servers visited in turn; wall time ${doc.wall_s} s`,
    ...(doc.reruns ?? []).map(
      (r) =>
        `- Re-run on ${r.date} (${r.wall_s} s, same method, back-to-back floor then p50 ${r.floor_us.p50} / p99 ${r.floor_us.p99} µs): the ${r.scenarios.join(', ')} rows${r.servers ? ` of ${r.servers.join(', ')}` : ''}${r.ticks_per_frame === undefined ? '' : ` with ${r.ticks_per_frame}-tick frames`}${r.subscribers === undefined ? '' : ` at ${r.subscribers} subscribers`} below, replacing the earlier ones`,
    ),
    `- Loader: bench/loadgen (C, one thread, epoll); floor = its loopback TCP round trip between the two cores, same run: p50 ${doc.floor_us.p50} µs, p99 ${doc.floor_us.p99} µs, p99.9 ${doc.floor_us.p999} µs`,
    '- Method: [bench/README.md](../README.md#method). A run is ok when every expected update arrived in order, no connection closed and the loader stayed under 70% of its core; `loader-bound` runs measured the loader and have no ratio.',
    '',
  ];
  const cap = [...of('capacity'), ...of('ingest')];
  if (cap.length) {
    out.push(
      '## Capacity',
      '',
      'Highest offered rate held for the whole window with every update delivered in order and p99 < 10 ms (searched, then confirmed).',
      '',
      table(
        [
          'server',
          'subs',
          'symbols',
          'ticks/frame',
          'ticks/s',
          'deliveries/s (range)',
          'server ns/delivery',
          'p50 / p99 / p99.9 / max µs',
          'loader',
          'status',
        ],
        cap.map((r) => [
          r.scenario === 'ingest' ? `${r.server} (ingest)` : r.server,
          r.subscribers,
          r.symbols,
          r.ticks_per_frame,
          int(r.capacity_rate),
          `${mps(r.deliveries_per_s)}${spread(r)}`,
          int(r.server_cpu_ns_per_delivery),
          lat(r),
          pct(r.loader_cpu_share),
          status(r),
        ]),
      ),
      '',
    );
    const lines = [];
    for (const batch of [1, 100]) {
      const raw = ok(find('capacity', 'uws-raw', 100, batch));
      const tw = ok(find('capacity', 'tickwire', 100, batch));
      const frames = batch === 1 ? 'single-tick frames' : 'batches of 100';
      if (raw > 0)
        lines.push(
          `- 100 subscribers, ${frames}: raw uWS ${mps(raw)}/s = ${ratio(raw, OLD_HARNESS_BEST)} the best any server reached in the Node harness (1.1 M/s)`,
        );
      if (tw > 0 && raw > 0) {
        const others = ['ws-msgpack', 'ws-json', 'socketio', 'tickwire-nats']
          .map((s) => [s, ok(find('capacity', s, 100, batch))])
          .filter(([, v]) => v > 0)
          .map(([s, v]) => `/ ${s} ${ratio(tw, v)}`);
        lines.push(
          `- 100 subscribers, ${frames}: tickwire / raw uWS ${ratio(tw, raw)} ${others.join(', ')}`,
        );
      }
    }
    if (lines.length) out.push(...lines, '');
  }
  if (of('overload').length) {
    out.push(
      '## Overload',
      '',
      'Twice the capacity offered for the window; deliveries/s = delivered / (window + drain of at most a few seconds). A server that collapses keeps far less than its capacity.',
      '',
      table(
        [
          'server',
          'subs',
          'ticks/frame',
          'offered ticks/s',
          'kept deliveries/s',
          'of capacity',
          'server ns/delivery',
          'p99 µs',
          'loader',
          'status',
        ],
        of('overload').map((r) => {
          const c = find('capacity', r.server, r.subscribers, r.ticks_per_frame, r.symbols);
          return [
            r.server,
            r.subscribers,
            r.ticks_per_frame,
            int(r.rate),
            mps(r.deliveries_per_s),
            r.status !== 'error' && r.status !== 'loader-bound' && c?.status === 'ok'
              ? ratio(r.deliveries_per_s, c.deliveries_per_s)
              : '–',
            int(r.server_cpu_ns_per_delivery),
            int(r.latency_us.p99),
            pct(r.loader_cpu_share),
            status(r),
          ];
        }),
      ),
      '',
    );
  }
  if (of('cost').length) {
    // Against raw uWS at the same load (there are rows at several rates).
    const raw = (r) =>
      of('cost').find(
        (x) =>
          x.server === 'uws-raw' &&
          x.subscribers === r.subscribers &&
          x.ticks_per_frame === r.ticks_per_frame &&
          x.symbols === r.symbols &&
          x.rate === r.rate,
      );
    out.push(
      '## Cost at a fixed load',
      '',
      'Server CPU (all threads, /proc) over the window divided by updates delivered.',
      '',
      table(
        [
          'server',
          'subs',
          'ticks/frame',
          'ticks/s',
          'deliveries/s',
          'server ns/delivery (range)',
          '÷ raw uWS',
          'loader',
          'status',
        ],
        of('cost').map((r) => [
          r.server,
          r.subscribers,
          r.ticks_per_frame,
          int(r.rate),
          mps(r.deliveries_per_s),
          `${int(r.server_cpu_ns_per_delivery)}${r.spread?.server_cpu_ns_per_delivery ? ` (${int(r.spread.server_cpu_ns_per_delivery[0])}–${int(r.spread.server_cpu_ns_per_delivery[1])})` : ''}`,
          r.status === 'ok' && raw(r)?.status === 'ok'
            ? ratio(r.server_cpu_ns_per_delivery, raw(r).server_cpu_ns_per_delivery)
            : '–',
          pct(r.loader_cpu_share),
          status(r),
        ]),
      ),
      '',
    );
  }
  if (of('latency').length) {
    const rates = [...new Set(of('latency').map((r) => r.rate))];
    const floorRow = (label, rate, f, vs) => [
      label,
      rate,
      '–',
      int(f.p50),
      int(f.p99),
      int(f.p999),
      '–',
      vs,
      '–',
      'ok',
    ];
    const body = [floorRow('**floor**, back to back', '–', doc.floor_us, '–')];
    for (const rate of rates) {
      const paced = doc.floor_paced_us?.[rate];
      if (paced)
        body.push(
          floorRow(
            `**floor**, ${int(1e6 / rate)} µs sleep between round trips`,
            int(rate),
            paced,
            '1.00×',
          ),
        );
      for (const r of of('latency').filter((x) => x.rate === rate))
        body.push([
          r.server,
          int(r.rate),
          r.subscribers,
          int(r.latency_us.p50),
          int(r.latency_us.p99),
          int(r.latency_us.p999),
          int(r.latency_us.max),
          r.status === 'ok' && (r.floor_us ?? paced)
            ? ratio(r.latency_us.p99, (r.floor_us ?? paced).p99)
            : '–',
          pct(r.loader_cpu_share),
          status(r),
        ]);
    }
    out.push(
      '## Latency at a fixed load',
      '',
      "Single-tick frames, 10 symbols; latency = receive time − the tick's intended send time (open loop: a late send counts), recorded on one subscriber in ten (read the moment data arrives; the others are drained in sweeps). The floor rows are the loader's own loopback round trip between the same two cores: back to back, and paced at the rate's frame interval, where both sides sleep in between as a server and a subscriber do; on this VM, waking an idle vCPU is then part of the floor. The floor rows shown are the newest run's; each server row's ratio is against the paced floor measured in its own run (`floor_us` in the JSON), since a merged file holds rows of several runs.",
      '',
      table(
        [
          'server',
          'ticks/s',
          'subs',
          'p50 µs',
          'p99 µs',
          'p99.9 µs',
          'max µs',
          'p99 ÷ paced floor p99',
          'loader',
          'status',
        ],
        body,
      ),
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
