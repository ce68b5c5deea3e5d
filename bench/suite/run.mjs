/**
 * The benchmark: every server in bench/suite/targets.mjs measured by the
 * native loader with the method in method.mjs, the plan in plans.mjs.
 *
 *   node bench/suite/run.mjs            full run  → bench/results/latest.{md,json}
 *   node bench/suite/run.mjs --quick    < 2 min   → bench/results/quick.{md,json}
 *   --servers a,b   only these servers     --out NAME   bench/results/NAME.*
 *   --batch N, --subs N   only the plan's entries with that frame size / subscriber count
 *   --scenarios a,b --merge   re-run those sections; their new rows replace the same rows in latest.*
 *
 * All servers are started at once, idle, on the server core; repetitions
 * visit them in turn (A B C A B C ...), so a noisy minute on the host hits
 * every server rather than one.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../peers/lib.mjs';
import { ensureLoadgen } from '../loadgen/index.mjs';
import { combine, findCapacity, floor, measureAt, prober, P99_LIMIT_US } from './method.mjs';
import { FULL, QUICK, startRate } from './plans.mjs';
import { renderMarkdown, machineInfo } from './report.mjs';
import { canPin, natsAvailable, startTarget } from './targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const flags = parseFlags(process.argv.slice(2));
const plan = flags.quick === 'true' ? QUICK : FULL;
const only = flags.servers ? new Set(flags.servers.split(',')) : undefined;
const reps = flags.reps ? Number(flags.reps) : plan.reps;
/** `--scenarios latency,cost`: only those sections (overload needs capacity in the same run). */
const sections = flags.scenarios ? new Set(flags.scenarios.split(',')) : undefined;
const runs = (section) => sections === undefined || sections.has(section);
/** `--batch N`, `--subs N`: only the plan's entries with that frame size or subscriber count. */
const picked = (entries) =>
  entries.filter(
    (e) =>
      (flags.batch === undefined || e.cfg.batch === Number(flags.batch)) &&
      (flags.subs === undefined || e.cfg.subs === Number(flags.subs)),
  );
const planned = {
  capacity: runs('capacity') ? picked(plan.capacity) : [],
  overloadOf: runs('overload') ? picked(plan.overloadOf) : [],
  cost: runs('cost') ? picked(plan.cost) : [],
  latency: runs('latency') ? picked(plan.latency) : [],
};
const log = (s) => console.log(s);
const t0 = Date.now();

if (!canPin)
  console.warn('NOTICE: taskset or a second core is missing: server and loader are not pinned');
if (!natsAvailable)
  console.warn('NOTICE: nats-server not found: the tickwire-nats rows are skipped');
if (!process.env.TICKWIRE_LOADGEN_BIN) ensureLoadgen();

const wanted = (servers) =>
  servers.filter(
    (s) => (only === undefined || only.has(s)) && (s !== 'tickwire-nats' || natsAvailable),
  );
const allServers = [
  ...new Set(
    [...planned.capacity, ...planned.overloadOf, ...planned.cost, ...planned.latency].flatMap((e) =>
      wanted(e.servers),
    ),
  ),
];

// The floor first, while nothing else runs: medians of `reps` runs, back to
// back and paced at each latency scenario's frame interval.
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function floorAt(gapUs, count) {
  const runs = [];
  for (let i = 0; i < reps; i++) runs.push(await floor(count, gapUs));
  return {
    p50: med(runs.map((f) => f.p50)),
    p99: med(runs.map((f) => f.p99)),
    p999: med(runs.map((f) => f.p999)),
  };
}
const floorUs = await floorAt(0, plan.floorCount);
log(
  `floor (loopback round trip, cores 0↔1, back to back): p50 ${floorUs.p50} µs, p99 ${floorUs.p99} µs, p99.9 ${floorUs.p999} µs`,
);
const floorPaced = {};
for (const rate of [...new Set(planned.latency.map((e) => e.rate))]) {
  // As many round trips as the latency window has frames, at most floorCount.
  const count = Math.min(plan.floorCount, Math.round(rate * plan.latencyPlan.windowS));
  floorPaced[rate] = await floorAt(Math.round(1e6 / rate), count);
  log(
    `floor paced at ${rate}/s: p50 ${floorPaced[rate].p50} µs, p99 ${floorPaced[rate].p99} µs, p99.9 ${floorPaced[rate].p999} µs`,
  );
}

const targets = new Map();
for (const s of allServers) targets.set(s, await startTarget(s));
const rows = [];
const say = (row) =>
  log(
    `${row.scenario.padEnd(8)} ${row.server.padEnd(13)} subs=${row.subscribers} sym=${row.symbols} batch=${row.ticks_per_frame} rate=${row.rate ?? row.capacity_rate} → ${row.deliveries_per_s}/s ${row.server_cpu_ns_per_delivery ?? '-'} ns/delivery p99=${row.latency_us.p99} µs loader=${row.loader_cpu_share} ${row.status}`,
  );

/** `reps` runs of each item, visiting the items in turn; one combined row each. */
async function alternate(items, measure) {
  const runs = items.map(() => []);
  for (let rep = 0; rep < reps; rep++)
    for (let i = 0; i < items.length; i++) runs[i].push(await measure(items[i], rep));
  return runs.map((r) => combine(r));
}

try {
  // Capacity: search each server, then confirm every found rate over long
  // windows, alternating servers; a rate that does not hold is stepped down.
  const capacityOf = new Map();
  for (const entry of planned.capacity) {
    const scenario = entry.scenario ?? 'capacity';
    const servers = wanted(entry.servers);
    const found = new Map();
    for (const s of servers) {
      const plan1 = {
        ...plan.search,
        start: Math.min(plan.search.maxRate, startRate(s, entry.cfg)),
      };
      const f = await findCapacity(prober(targets.get(s), entry.cfg), entry.cfg, plan1, (m) =>
        log(`${s}${m}`),
      );
      found.set(s, f);
    }
    let pending = servers.filter((s) => found.get(s).rate > 0);
    for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) {
      const combined = await alternate(pending, (s) =>
        measureAt(targets.get(s), s, scenario, entry.cfg, found.get(s).rate, plan.confirm),
      );
      const retry = [];
      combined.forEach((row, i) => {
        const s = pending[i];
        const f = found.get(s);
        const held = row.status === 'ok' && row.latency_us.p99 < P99_LIMIT_US;
        // A rate whose confirming windows did not hold (lost updates, p99, or
        // the loader over 70% of its core) is stepped down, even when the
        // search was bounded by the loader: the row must be a rate the server
        // held with the loader under its limit.
        if (held || attempt === 2) {
          // Not held after the step-downs: no capacity figure (and no overload run).
          const out = {
            ...row,
            rate: null,
            capacity_rate: held ? f.rate : null,
            ...(held ? {} : { tried_rate: f.rate }),
            ...(f.loaderLimited ? { status: 'loader-bound' } : {}),
            ...(held ? {} : { status: row.status === 'ok' ? 'slow' : row.status }),
            probes: f.probes.length,
          };
          rows.push(out);
          say(out);
          if (scenario === 'capacity' && held)
            capacityOf.set(`${s}/${entry.cfg.subs}/${entry.cfg.symbols}/${entry.cfg.batch}`, out);
        } else {
          f.rate = Math.max(
            entry.cfg.batch,
            Math.round((f.rate * 0.85) / entry.cfg.batch) * entry.cfg.batch,
          );
          log(
            `  ${s}: did not hold over ${plan.confirm.windowS} s (${row.status}, p99 ${row.latency_us.p99} µs); confirming ${f.rate}`,
          );
          retry.push(s);
        }
      });
      pending = retry;
    }
    for (const s of servers.filter((x) => found.get(x).rate === 0)) {
      const out = {
        server: s,
        scenario,
        ...{
          subscribers: entry.cfg.subs,
          symbols: entry.cfg.symbols,
          ticks_per_frame: entry.cfg.batch,
        },
        rate: null,
        capacity_rate: 0,
        deliveries_per_s: 0,
        server_cpu_ns_per_delivery: null,
        loader_cpu_share: null,
        latency_us: { p50: null, p99: null, p999: null, max: null },
        delivered: 0,
        expected: 0,
        status: 'incomplete',
        error: `no rate down to ${plan.search.minRate} ticks/s held`,
      };
      rows.push(out);
      say(out);
    }
  }

  // Overload: twice each server's capacity.
  for (const entry of planned.overloadOf) {
    const items = wanted(entry.servers).filter((s) =>
      capacityOf.has(`${s}/${entry.cfg.subs}/${entry.cfg.symbols}/${entry.cfg.batch}`),
    );
    const rate = (s) =>
      2 *
      capacityOf.get(`${s}/${entry.cfg.subs}/${entry.cfg.symbols}/${entry.cfg.batch}`)
        .capacity_rate;
    const combined = await alternate(items, (s) =>
      measureAt(targets.get(s), s, 'overload', entry.cfg, rate(s), plan.overload),
    );
    for (const row of combined) {
      rows.push(row);
      say(row);
    }
  }

  // Cost and latency at fixed loads: warm each server once, then alternate.
  for (const [scenario, entries, p] of [
    ['cost', planned.cost, plan.fixed],
    ['latency', planned.latency, plan.latencyPlan],
  ]) {
    for (const entry of entries) {
      const items = wanted(entry.servers);
      const combined = await alternate(items, (s, rep) =>
        measureAt(
          targets.get(s),
          s,
          scenario,
          entry.cfg,
          entry.rate,
          rep === 0 ? p : { ...p, warmS: 0 },
          {
            latency: scenario === 'latency',
          },
        ),
      );
      for (const row of combined) {
        // A latency row keeps the paced floor of its own run: merged files
        // hold rows of several runs, each compared with its own floor.
        if (scenario === 'latency' && floorPaced[entry.rate] !== undefined)
          row.floor_us = floorPaced[entry.rate];
        rows.push(row);
        say(row);
      }
    }
  }
} finally {
  for (const t of targets.values()) await t.stop();
}

const doc = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  node: process.version,
  pinning: canPin ? 'server core 0, loader core 1 (taskset / sched_setaffinity)' : 'none',
  plan: plan.name,
  reps,
  wall_s: Math.round((Date.now() - t0) / 1000),
  floor_us: floorUs,
  floor_paced_us: floorPaced,
  rows,
};
const outDir = path.join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const base = path.resolve(outDir, flags.out ?? (plan === QUICK ? 'quick' : 'latest'));
if (flags.merge === 'true' && sections !== undefined) {
  // `--scenarios S --merge`: replace only those sections' rows in the
  // existing results (floors come from this run), and say so in the file.
  const old = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
  const rerun = new Set(
    [...sections].map((x) => (x === 'capacity' ? ['capacity', 'ingest'] : [x])).flat(),
  );
  // An old row is replaced by the new row of the same measurement (scenario,
  // server, subscribers, symbols, frame size, fixed rate); the others stay.
  const key = (r) =>
    [
      r.scenario,
      r.server,
      r.subscribers,
      r.symbols,
      r.ticks_per_frame,
      r.scenario === 'capacity' || r.scenario === 'ingest' || r.scenario === 'overload'
        ? ''
        : r.rate,
    ].join('/');
  const fresh = new Set(rows.map(key));
  const ran = new Set(allServers);
  doc.rows = [...old.rows.filter((r) => !fresh.has(key(r))), ...rows];
  doc.reruns = [
    ...(old.reruns ?? []),
    {
      scenarios: [...rerun],
      servers: [...ran],
      ...(flags.batch === undefined ? {} : { ticks_per_frame: Number(flags.batch) }),
      ...(flags.subs === undefined ? {} : { subscribers: Number(flags.subs) }),
      date: doc.date,
      wall_s: doc.wall_s,
      floor_us: floorUs,
    },
  ];
  doc.date = old.date;
  doc.wall_s = old.wall_s;
  if (!runs('latency')) doc.floor_paced_us = old.floor_paced_us;
}
writeFileSync(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(`${base}.md`, renderMarkdown(doc));
log(`wrote ${base}.md and .json in ${doc.wall_s} s`);
