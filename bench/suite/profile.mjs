/**
 * `npm run profile -- SCENARIO`: one benchmark load against tickwire run
 * under `node --cpu-prof` (and `perf record` attached to the server for the
 * measured window, where perf works), then the top self-time functions.
 *
 *   npm run profile -- cost        (also: single, latency, ingest, fanout-1000; see PROFILES)
 *   flags: --seconds S (window, default 10), --top N (default 25), --keep (keep .prof/)
 *
 * Profiles land in .prof/<scenario>-<time>/ (git-ignored): open the
 * .cpuprofile in Chrome DevTools (Performance → Load profile) or VS Code.
 */
import { spawnSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../peers/lib.mjs';
import { ensureLoadgen } from '../loadgen/index.mjs';
import { measureAt } from './method.mjs';
import { startTarget } from './targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Named loads: the shapes the benchmark measures. */
export const PROFILES = {
  cost: {
    cfg: { subs: 100, symbols: 10, batch: 100 },
    rate: 20_000,
    note: 'batches of 100, 2 M deliveries/s',
  },
  single: {
    cfg: { subs: 100, symbols: 10, batch: 1 },
    rate: 1000,
    note: 'single-tick frames, 0.1 M deliveries/s',
  },
  latency: {
    cfg: { subs: 10, symbols: 10, batch: 1 },
    rate: 10_000,
    note: 'single-tick frames, 10 subscribers',
  },
  ingest: {
    cfg: { subs: 1, symbols: 1000, batch: 100 },
    rate: 1_000_000,
    note: 'one subscriber on *, 1,000 symbols, batches of 100: ingest',
  },
  'fanout-1000': {
    cfg: { subs: 1000, symbols: 10, batch: 100 },
    rate: 2000,
    note: '1,000 subscribers, batches of 100',
  },
};

/**
 * Self time per function from a V8 .cpuprofile: samples are attributed to
 * the node they hit; time = samples x mean interval. Sorted, descending.
 */
export function topSelf(profile, n) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  // Idle samples (the event loop waiting, or inside native uWS code that V8
  // does not attribute) say nothing about JS cost: shares are of busy samples.
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id);
  for (const id of idle) counts.delete(id);
  let total = 0;
  for (const c of counts.values()) total += c;
  const agg = new Map();
  for (const [id, c] of counts) {
    const f = byId.get(id).callFrame;
    const file = f.url.startsWith('file:') ? path.relative(root, fileURLToPath(f.url)) : f.url;
    const where = file ? `${file}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    agg.set(key, (agg.get(key) ?? 0) + c);
  }
  return [...agg]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, c]) => ({ name, share: c / total }));
}

const perfWorks = () =>
  spawnSync('perf', ['record', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true']).status === 0;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flags = parseFlags(process.argv.slice(2));
  const name = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'cost';
  const p = PROFILES[name];
  if (!p) {
    console.error(
      `profile: unknown scenario "${name}"; one of: ${Object.keys(PROFILES).join(', ')}`,
    );
    process.exit(2);
  }
  if (!process.env.TICKWIRE_LOADGEN_BIN) ensureLoadgen();
  const seconds = Number(flags.seconds ?? 10);
  const top = Number(flags.top ?? 25);
  const dir = path.join(root, '.prof', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const withPerf = perfWorks();
  const target = await startTarget('tickwire', {
    nodeArgs: [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      ...(withPerf ? ['--perf-basic-prof-only-functions'] : []),
    ],
  });
  let row;
  let perf;
  try {
    // Warm up first, so the profile shows optimized code, not the JIT.
    row = await measureAt(target, 'tickwire', 'cost', p.cfg, p.rate, { warmS: 3, windowS: 0.001 });
    const perfData = path.join(dir, 'perf.data');
    if (withPerf)
      perf = spawn(
        'perf',
        [
          'record',
          '-e',
          'cpu-clock',
          '-F',
          '999',
          '-g',
          '-p',
          String(target.pids[0]),
          '-o',
          perfData,
        ],
        {
          stdio: 'ignore',
        },
      );
    row = await measureAt(target, 'tickwire', 'cost', p.cfg, p.rate, {
      warmS: 0,
      windowS: seconds,
    });
    if (perf) {
      const done = new Promise((r) => perf.once('exit', r));
      perf.kill('SIGINT');
      await done;
    }
  } finally {
    await target.stop(); // SIGTERM: node writes the .cpuprofile on the way out
  }
  console.log(
    `profile ${name} (${p.note}): ${row.deliveries_per_s}/s, ${row.server_cpu_ns_per_delivery} ns/delivery, p99 ${row.latency_us.p99} µs, ${row.status}`,
  );
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) {
    console.error(`profile: no .cpuprofile in ${dir}`);
    process.exit(1);
  }
  // The profile covers the whole process; the warm-up and start-up are in it too.
  console.log(
    `\nV8 self time, share of busy JS samples (whole process, start-up included, ${path.relative(root, path.join(dir, file))}):`,
  );
  for (const t of topSelf(JSON.parse(readFileSync(path.join(dir, file), 'utf8')), top))
    console.log(`  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.name}`);
  if (withPerf) {
    const rep = spawnSync(
      'perf',
      [
        'report',
        '-i',
        path.join(dir, 'perf.data'),
        '--no-children',
        '--sort',
        'dso,symbol',
        '--stdio',
        '-g',
        'none',
        '--percent-limit',
        '0.8',
      ],
      { encoding: 'utf8' },
    );
    const lines = rep.stdout
      .split('\n')
      .filter((l) => /%/.test(l) && !l.startsWith('#'))
      .slice(0, top);
    console.log(`\nperf (server only, the ${seconds} s window, kernel included):`);
    for (const l of lines)
      console.log(
        `  ${l
          .replace(/\s+-\s+-\s*$/, '')
          .replace(/\s{2,}/g, '  ')
          .trim()}`,
      );
  } else console.log('\nperf: not available here (perf record failed); V8 profile only');
}
