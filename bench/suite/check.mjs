/**
 * `npm run bench:check`: the regression check. tickwire's server CPU per
 * delivery divided by raw uWS's, both measured in this run at the same fixed
 * load (plans.mjs CHECK), medians of alternating repetitions, compared with
 * the ratio committed in bench/results/check-baseline.json. Fails (exit 1)
 * when the ratio is more than 25% worse. A ratio taken within one run
 * survives a noisy host where absolute figures do not.
 *
 *   node bench/suite/check.mjs                 check against the baseline
 *   node bench/suite/check.mjs --write-baseline   measure and store a new baseline
 *   node bench/suite/check.mjs --json          print the measurement as JSON too
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../peers/lib.mjs';
import { ensureLoadgen } from '../loadgen/index.mjs';
import { combine, measureAt } from './method.mjs';
import { CHECK } from './plans.mjs';
import { machineInfo } from './report.mjs';
import { startTarget } from './targets.mjs';

/** How much worse than the baseline the ratio may get. */
export const TOLERANCE = 0.25;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASELINE = path.join(root, 'bench', 'results', 'check-baseline.json');

/** The verdict for a measured ratio against a baseline ratio. */
export function verdict(ratio, baseline, tolerance = TOLERANCE) {
  const limit = baseline * (1 + tolerance);
  return { ok: ratio <= limit, limit, change: ratio / baseline - 1 };
}

async function measure() {
  const servers = ['tickwire', 'uws-raw'];
  const targets = [];
  try {
    for (const s of servers) targets.push(await startTarget(s));
    const runs = servers.map(() => []);
    for (let rep = 0; rep < CHECK.reps; rep++)
      for (let i = 0; i < servers.length; i++) {
        const plan = rep === 0 ? CHECK.plan : { ...CHECK.plan, warmS: 0 };
        runs[i].push(await measureAt(targets[i], servers[i], 'cost', CHECK.cfg, CHECK.rate, plan));
      }
    return runs.map((r) => combine(r));
  } finally {
    for (const t of targets) await t.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flags = parseFlags(process.argv.slice(2));
  if (!process.env.TICKWIRE_LOADGEN_BIN) ensureLoadgen();
  const t0 = Date.now();
  const [tw, raw] = await measure();
  const bad = [tw, raw].filter((r) => r.status !== 'ok' || !(r.server_cpu_ns_per_delivery > 0));
  const line = (r) =>
    `${r.server}: ${r.server_cpu_ns_per_delivery} ns/delivery (runs ${r.spread.server_cpu_ns_per_delivery?.join('–')}), ${r.deliveries_per_s}/s, loader ${r.loader_cpu_share}, ${r.status}`;
  console.log(line(tw));
  console.log(line(raw));
  if (bad.length > 0) {
    console.error(
      `bench:check: no ratio: ${bad.map((r) => `${r.server} ${r.status} ${r.error ?? ''}`).join('; ')}`,
    );
    process.exit(1);
  }
  const ratio = tw.server_cpu_ns_per_delivery / raw.server_cpu_ns_per_delivery;
  const measured = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    node: process.version,
    load: { ...CHECK.cfg, rate: CHECK.rate, reps: CHECK.reps, window_s: CHECK.plan.windowS },
    tickwire_ns: tw.server_cpu_ns_per_delivery,
    uws_raw_ns: raw.server_cpu_ns_per_delivery,
    ratio: Number(ratio.toFixed(3)),
    wall_s: Math.round((Date.now() - t0) / 1000),
  };
  if (flags.json === 'true') console.log(JSON.stringify(measured));
  if (flags['write-baseline'] === 'true') {
    writeFileSync(BASELINE, `${JSON.stringify(measured, null, 2)}\n`);
    console.log(
      `bench:check: wrote baseline ratio ${measured.ratio} to ${path.relative(root, BASELINE)}`,
    );
    process.exit(0);
  }
  const base = JSON.parse(readFileSync(BASELINE, 'utf8'));
  const v = verdict(ratio, base.ratio);
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  console.log(
    `bench:check: tickwire / raw uWS = ${ratio.toFixed(3)} (baseline ${base.ratio} from ${base.date.slice(0, 10)}; ${pct(v.change)}; limit ${v.limit.toFixed(3)}) in ${measured.wall_s} s: ${v.ok ? 'ok' : 'REGRESSION'}`,
  );
  process.exit(v.ok ? 0 : 1);
}
