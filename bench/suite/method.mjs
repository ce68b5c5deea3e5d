/**
 * The measuring method of issue 13, one function per scenario, each driving
 * the native loader (bench/loadgen) against a started target:
 *
 * - capacity: the highest offered rate a server sustains with every update
 *   delivered in order, p99 < 10 ms and the loader under 70% of its core
 *   (bracket by doubling, bisect geometrically, confirm over a long window);
 * - overload: 2x that rate, the deliveries/s it keeps;
 * - cost: server CPU ns per delivery at one fixed offered load;
 * - latency: receive - intended send time at a fixed load, single-tick frames.
 *
 * Every measurement follows a warm-up on the same server with the same
 * traffic. A measurement returns one row in the shape of bench/results/*.json.
 */
import { runLoadgen } from '../loadgen/index.mjs';
import { FEED_TOKEN, LOADER_CORE, canPin } from './targets.mjs';

/** Capacity requires p99 under this. */
export const P99_LIMIT_US = 10_000;

/**
 * One loader run. `o`: subs, symbols, batch, rate, duration (s), and for high
 * rates readUs (read sweeps instead of a read per wake-up) and sample (walk
 * and order-check every K-th subscriber; the rest count array headers).
 */
export async function load(target, o) {
  const args = [
    'run',
    '--port',
    target.subPort,
    '--peer',
    target.peer,
    '--subs',
    o.subs,
    '--symbols',
    o.symbols,
    '--batch',
    o.batch,
    '--rate',
    o.rate,
    '--duration',
    o.duration,
    '--read-us',
    o.readUs ?? 0,
    '--sample',
    o.sample ?? 1,
    '--drain-ms',
    o.drainMs ?? 1000,
    '--max-drain-ms',
    o.maxDrainMs ?? 5000,
  ];
  if (o.spinUs) args.push('--spin-us', o.spinUs);
  if (o.sweepUs) args.push('--sweep-us', o.sweepUs);
  if (canPin) args.push('--cpu', LOADER_CORE);
  if (target.feedPort !== target.subPort) args.push('--feed-port', target.feedPort);
  if (target.peer === 'tickwire') args.push('--feed-token', FEED_TOKEN);
  for (const pid of target.pids) args.push('--server-pid', pid);
  args.push(...(target.loaderArgs ?? []));
  const timeoutMs = (o.duration + (o.maxDrainMs ?? 5000) / 1000 + 60) * 1000;
  return runLoadgen(args, { timeoutMs });
}

/** ok | loader-bound | incomplete | error, for one loader report. */
export function statusOf(r) {
  if (r.status === 'error') return 'error';
  if (r.loader_bound) return 'loader-bound';
  if (r.status !== 'ok') return 'incomplete';
  return 'ok';
}

/** Whether a run counts toward capacity (a run with no latency sample does not). */
export function sustains(r) {
  return statusOf(r) === 'ok' && (r.latency_us?.count ?? 0) > 0 && r.latency_us.p99 < P99_LIMIT_US;
}

/** A fixed-rate run kept up when it delivered at least this share of what was offered. */
export const KEPT_UP = 0.95;

/** A result row from one loader report (the names bench/results/*.json keeps). */
export function toRow(server, scenario, cfg, r, rate) {
  const ns = r.server_cpu_ns_per_delivery;
  const sampled = (r.latency_us?.count ?? 0) > 0;
  // A cost or latency run that delivered everything, but seconds late, is
  // not "ok": it fell behind the offered rate (the drain caught it up).
  let status = statusOf(r);
  if (
    status === 'ok' &&
    (scenario === 'cost' || scenario === 'latency') &&
    rate > 0 &&
    (r.deliveries_per_s ?? 0) < KEPT_UP * rate * cfg.subs
  )
    status = 'behind';
  return {
    server,
    scenario,
    subscribers: cfg.subs,
    symbols: cfg.symbols,
    ticks_per_frame: cfg.batch,
    rate,
    deliveries_per_s: Math.round(r.deliveries_per_s ?? 0),
    server_cpu_ns_per_delivery: typeof ns === 'number' && ns > 0 ? Math.round(ns) : null,
    loader_cpu_share: r.loader_cpu_share ?? null,
    latency_us: {
      p50: sampled ? r.latency_us.p50 : null,
      p99: sampled ? r.latency_us.p99 : null,
      p999: sampled ? r.latency_us.p999 : null,
      max: sampled ? r.latency_us.max : null,
    },
    delivered: r.delivered ?? 0,
    expected: r.expected ?? 0,
    status,
    ...(r.error ? { error: r.error } : {}),
    ...(r.order_errors ? { order_errors: r.order_errors } : {}),
    ...(r.closed ? { closed: r.closed } : {}),
  };
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** { key: total } over rows that have it, or {} when none does. */
const sum = (rows, key) => {
  const having = rows.filter((r) => typeof r[key] === 'number');
  return having.length ? { [key]: having.reduce((s, r) => s + r[key], 0) } : {};
};

const WORST = ['error', 'incomplete', 'loader-bound', 'behind', 'ok'];

/**
 * Repetitions of one measurement → one row of medians. Counts are summed;
 * status is the worst of the repetitions; `reps` and `spread` (min–max of
 * deliveries/s and of ns per delivery) say how much they varied.
 */
export function combine(all) {
  // A repetition that could not run (status error: e.g. the server still
  // busy with the previous run's backlog) has no figures: medians leave it
  // out; its status still counts.
  const rows = all.some((r) => r.status !== 'error')
    ? all.filter((r) => r.status !== 'error')
    : all;
  const first = rows[0];
  const pick = (f) => median(rows.map(f));
  const round = (x) => (x === null ? null : Math.round(x));
  const status = WORST.find((s) => all.some((r) => r.status === s)) ?? 'ok';
  const range = (f) => {
    const v = rows.map(f).filter((x) => typeof x === 'number');
    return v.length ? [Math.min(...v), Math.max(...v)] : null;
  };
  return {
    ...first,
    deliveries_per_s: round(pick((r) => r.deliveries_per_s)),
    server_cpu_ns_per_delivery: round(pick((r) => r.server_cpu_ns_per_delivery)),
    loader_cpu_share: pick((r) => r.loader_cpu_share),
    latency_us: {
      p50: pick((r) => r.latency_us.p50),
      p99: pick((r) => r.latency_us.p99),
      p999: pick((r) => r.latency_us.p999),
      max: pick((r) => r.latency_us.max),
    },
    delivered: all.reduce((s, r) => s + r.delivered, 0),
    expected: all.reduce((s, r) => s + r.expected, 0),
    status,
    reps: all.length,
    spread: {
      deliveries_per_s: range((r) => r.deliveries_per_s),
      server_cpu_ns_per_delivery: range((r) => r.server_cpu_ns_per_delivery),
    },
    ...(all.find((r) => r.error) ? { error: all.find((r) => r.error).error } : {}),
    ...sum(all, 'order_errors'),
    ...sum(all, 'closed'),
  };
}

/**
 * Loader options. Capacity, overload and cost runs read each subscriber in
 * sweeps every 2 ms: a loopback recv() costs the loader 6–8 µs here, most of
 * it the ACK it sends (perf: tcp_recvmsg_locked → __tcp_transmit_skb →
 * tcp_v4_rcv), whatever it carries; a read per wake-up took 89% of its core
 * at 100 subscribers x 1,000 single-tick frames/s. Sweeps bound the reads to
 * subscribers x 500/s and add at most 2 ms to latency, inside the 10 ms bound.
 * Only enough subscribers to walk about 1 M updates/s are walked and
 * order-checked (issue 13's prototype: walking every update cost 84% of the
 * core at 10 M/s; perf here: the walk took half the loader's time at 2 M/s
 * with one subscriber in ten); the others count updates from the frames'
 * array headers.
 * Latency runs read on every wake-up and walk every update.
 */
export function loaderOpts(cfg, rate, { latency = false } = {}) {
  if (latency) {
    // One subscriber in ten (the last of each ten, late in the server's send
    // order) is read the moment data arrives and has its latency recorded;
    // the others are drained in sweeps, ~20 µs of sweep period per swept
    // subscriber, so the loader stays well under its core at 100k frames/s
    // (a read per frame everywhere took 73–93% at 10k ticks/s x 10).
    if (cfg.subs < 10) return { readUs: 0, sample: 1, sweepUs: 0 };
    const swept = cfg.subs - Math.floor(cfg.subs / 10);
    return { readUs: 0, sample: 10, sweepUs: Math.max(200, swept * 20) };
  }
  const perS = rate * cfg.subs;
  // Walk at most ~1 M updates/s: one subscriber in ceil(updates/s / 1 M).
  return { readUs: 2000, sample: Math.max(1, Math.min(cfg.subs, Math.ceil(perS / 1e6))) };
}

const roundRate = (r, batch) => {
  const mag = 10 ** Math.max(0, Math.floor(Math.log10(r)) - 1);
  return Math.max(batch, Math.round(r / mag) * mag);
};

/** A probe for findCapacity: one loader run against `target` at a rate. */
export function prober(target, cfg) {
  return (rate, duration) =>
    load(target, {
      ...cfg,
      ...loaderOpts(cfg, rate),
      rate,
      duration,
      drainMs: 500,
      maxDrainMs: 3000,
    });
}

/** Loader-bound probes above a held rate tried past before the loader bounds a capacity search. */
export const LOADER_SKIPS = 2;

/**
 * Capacity search for one cfg ({subs, symbols, batch}). `probe(rate, s)`
 * runs the load and resolves with the loader's report. `plan`: start (first
 * rate), minRate, maxRate, probeS, warmS (a warm-up at the start rate, not
 * judged), tolerance (stop bisecting when hi/lo ≤ 1 + tolerance). Doubles
 * (or halves) until the rate is bracketed, then bisects geometrically; while
 * doubling above a held rate, up to LOADER_SKIPS loader-bound probes are
 * passed over (no verdict) before one bounds the search.
 * Resolves with { rate, loaderLimited, probes }: rate is the highest rate
 * that held (0: none did); loaderLimited when a failure was the loader's.
 */
export async function findCapacity(probe, cfg, plan, log) {
  if (plan.warmS > 0) await probe(plan.start, plan.warmS);
  let lo = 0;
  let hi = Infinity;
  let rate = plan.start;
  let loaderLimited = false;
  let skipped = 0;
  const probes = [];
  for (let i = 0; i < 14; i++) {
    const r = await probe(rate, plan.probeS);
    const ok = sustains(r);
    probes.push({ rate, ok, status: statusOf(r), p99: r.latency_us?.p99 ?? null });
    log?.(
      `  probe ${rate} ticks/s: ${ok ? 'ok' : statusOf(r)} ${Math.round(r.deliveries_per_s ?? 0)}/s p99=${r.latency_us?.p99} loader=${r.loader_cpu_share}`,
    );
    // A loader-bound probe is no verdict on the server: it bounds the search
    // like a failure, and the result says the loader, not the server, set it.
    // Except above a rate that held, while still doubling: a coalescing
    // server's frames grow with the rate, so the loader's cost per delivery
    // can fall as the rate rises (tickwire, 100 subscribers, single ticks:
    // loader 75% of its core at 2.9k ticks/s, 46% at 10k, where raw uWS
    // collapsed). Up to LOADER_SKIPS such probes are passed over before the
    // loader bounds the search.
    const passOver =
      !ok &&
      r.loader_bound === true &&
      lo > 0 &&
      hi === Infinity &&
      skipped < LOADER_SKIPS &&
      rate < plan.maxRate;
    if (ok) {
      lo = rate;
      skipped = 0;
    } else if (passOver) skipped++;
    else if (rate < hi) {
      hi = rate;
      loaderLimited = r.loader_bound === true;
    }
    if (hi === Infinity) {
      if (rate >= plan.maxRate) break;
      rate = Math.min(plan.maxRate, roundRate(rate * 2, cfg.batch));
    } else if (lo === 0) {
      if (rate <= plan.minRate) break;
      rate = Math.max(plan.minRate, roundRate(rate / 2, cfg.batch));
    } else {
      if (hi / lo <= 1 + plan.tolerance) break;
      const next = roundRate(Math.sqrt(lo * hi), cfg.batch);
      if (next <= lo || next >= hi) break;
      rate = next;
    }
  }
  return { rate: lo, loaderLimited, probes };
}

/** `reps` runs at one rate after a warm-up (when warmS > 0): rows. */
export async function measureAt(target, server, scenario, cfg, rate, plan, opts = {}) {
  const lo = loaderOpts(cfg, rate, opts);
  if (plan.warmS > 0) await load(target, { ...cfg, ...lo, rate, duration: plan.warmS });
  const r = await load(target, {
    ...cfg,
    ...lo,
    rate,
    duration: plan.windowS,
    maxDrainMs: plan.maxDrainMs ?? 5000,
  });
  return toRow(server, scenario, cfg, r, rate);
}

/**
 * Loopback ping-pong round trip between the two cores, the floor. With
 * gapUs, both sides sleep that long between round trips, as at a fixed tick
 * rate: on a VM an idle vCPU's wake-up is then part of the floor.
 */
export async function floor(count, gapUs = 0) {
  const args = ['floor', '--count', count, '--gap-us', gapUs];
  if (canPin) args.push('--cpu', LOADER_CORE, '--echo-cpu', 0);
  const r = await runLoadgen(args, { timeoutMs: 120_000 });
  return r.rtt_us;
}
