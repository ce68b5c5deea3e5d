/**
 * Soak test: `npm run soak -- --minutes M [--rate 5000] [--symbols 200]
 * [--subscribers 50] [--churn 5] [--feed-churn-every 5] [--out bench/results]`.
 *
 * It starts the built server (dist/src/main.js) as a child process with
 * `--inspect=127.0.0.1:0`, so that it can measure the SERVER's memory without
 * any change to the server: once a second it asks V8, over the inspector
 * protocol, for a full forced GC (HeapProfiler.collectGarbage) and then for
 * process.memoryUsage() (heap used, external, array buffers), and reads VmRSS
 * from /proc/PID/status plus the counters of GET /stats.
 *
 * Meanwhile this process drives a steady load with connection churn (see
 * scripts/soak-load.mjs): one open-loop feed at `--rate` ticks/s over
 * `--symbols` symbols, `--subscribers` steady subscribers ('*' and named
 * symbols, JSON and MessagePack) that check every update's sequence number,
 * `--churn` short-lived subscribers per second (polite, abrupt, vanishing,
 * never-reading, op-sending) and a short-lived extra feed every
 * `--feed-churn-every` seconds.
 *
 * Verdict (after a warm-up of max(20% of the run, 60 s), at most half the
 * run): least-squares slopes of heap used, external and RSS (all after the
 * forced GC) over the rest of the run. A series "keeps growing" when its slope
 * is above its threshold AND its last-quarter mean exceeds its first-quarter
 * mean by more than a margin; either one alone is noise or a one-off step.
 * Exit 1 when any series keeps growing; runs whose window is shorter than
 * 5 minutes report the figures but give no verdict ("inconclusive", exit 0).
 * `--inject-leak KIB_PER_S` makes the server leak (a self-check of the detector).
 *
 * Writes OUT/soak-<M>m.json (parameters, machine, samples, verdict) and
 * OUT/soak-<M>m.png (or .svg when no Chromium is installed).
 */
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from './soak-lib.mjs';
import { startLoad } from './soak-load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flags = lib.parseFlags(process.argv.slice(2));
const num = (k, d) => (flags[k] === undefined ? d : Number(flags[k]));
const P = {
  minutes: num('minutes', 5),
  rate: num('rate', 5000),
  symbols: num('symbols', 200),
  subscribers: num('subscribers', 50),
  churn: num('churn', 5),
  feedChurnEvery: num('feed-churn-every', 5),
  injectLeakKiBps: num('inject-leak', 0),
};
const outDir = path.resolve(flags.out ?? path.join(root, 'bench', 'results'));
const durationS = Math.round(P.minutes * 60);
const warmupS = Math.min(Math.max(0.2 * durationS, 60), 0.5 * durationS);
const FEED_TOKEN = 'soak-feed-token-0123456789';
const log = (m) => console.log(`[soak ${((performance.now() - t0) / 1000).toFixed(0)}s] ${m}`);
let t0 = performance.now();

// Thresholds, stated up front. 1 MiB per 10 minutes of post-GC heap (or
// external) is ~1.7 KiB/s: at 5 churned connections/s that is ~350 bytes kept
// per connection, at 5000 ticks/s ~0.35 byte per tick, i.e. any per-connection
// or per-frame leak worth the name. RSS also holds allocator caches and
// fragmentation, so it gets a looser 8 MiB per 10 minutes. The quarter margin
// is half the rise a leak at exactly the threshold slope would cause between
// the first and last quarters (their centres are 3/4 of the window apart), at
// least 0.25 MiB.
const THRESHOLDS = { heapUsed: 1, external: 1, rss: 8 }; // MiB per 10 minutes

// ------------------------------------------------------------------ server
let stopping = false;
const server = spawn(
  process.execPath,
  [
    '--expose-gc',
    '--inspect=127.0.0.1:0',
    'dist/src/main.js',
    ...['--host', '127.0.0.1', '--port', '0', '--feed-token', FEED_TOKEN],
    ...['--admin-token', 'soak-admin-token-0123456789'],
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
);
const serverLines = (stream, re) =>
  new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => reject(new Error(`server did not print ${re}`)), 20000);
    stream.on('data', (d) => {
      if (done) return;
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        done = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
let serverExited = false;
server.on('exit', (code, sig) => {
  serverExited = true;
  if (!stopping) console.error(`server exited unexpectedly: code ${code}, signal ${sig}`);
});
server.stderr.on('data', (d) => {
  const s = d.toString();
  if (!/Debugger|For help|inspector/i.test(s)) process.stderr.write(`[server] ${s}`);
});
const [port, inspectorUrl] = await Promise.all([
  serverLines(server.stdout, /listening on http:\/\/[^:\s]+:(\d+)/).then(Number),
  serverLines(server.stderr, /Debugger listening on (ws:\/\/\S+)/),
]);
const inspector = await lib.connectInspector(inspectorUrl);
const base = `127.0.0.1:${port}`;
log(`server pid ${server.pid} on ${base}; inspector ${inspectorUrl}`);
log(`params ${JSON.stringify(P)}; warm-up ${warmupS} s of ${durationS} s`);
if (P.injectLeakKiBps > 0) {
  // Self-check only: a heap leak planted in the server (8-byte doubles, on the V8 heap).
  await inspector.evaluate(
    `globalThis.__soakLeak = []; setInterval(() => globalThis.__soakLeak.push(new Array(${Math.round(P.injectLeakKiBps * 128)}).fill(0.5)), 1000).unref(); 1`,
  );
  log(`INJECTED a ${P.injectLeakKiBps} KiB/s heap leak into the server`);
}

// -------------------------------------------------------------------- load
const load = await startLoad({ base, feedToken: FEED_TOKEN, P, log });
const { counts, steady } = load;
// ---------------------------------------------------------------- sampling
const samples = [];
let prevPublished;
let prevDelivered = 0;
let stallSeconds = 0;
let sampling = false;
const stats = () => globalThis.fetch(`http://${base}/stats`).then((r) => r.json());
async function sample() {
  if (sampling || serverExited) return;
  sampling = true;
  try {
    const mem = await inspector.memoryAfterGc();
    const rssMiB = lib.procRssMiB(server.pid);
    const st = await stats();
    const delivered = load.delivered();
    for (const s of steady) {
      // A steady subscriber that got nothing in a second although ≥ 20 updates were due.
      if (samples.length > 2 && s.delivered === s.last && s.expectedPerS >= 20) stallSeconds++;
      s.last = s.delivered;
    }
    const t = (performance.now() - t0) / 1000;
    samples.push({
      t: +t.toFixed(2),
      rssMiB: +rssMiB.toFixed(2),
      heapUsedMiB: +(mem.heapUsed / lib.MiB).toFixed(3),
      heapTotalMiB: +(mem.heapTotal / lib.MiB).toFixed(3),
      externalMiB: +(mem.external / lib.MiB).toFixed(3),
      arrayBuffersMiB: +(mem.arrayBuffers / lib.MiB).toFixed(3),
      gcMs: +mem.gcMs.toFixed(1),
      feeds: st.connections.feeds,
      subscribers: st.connections.subscribers,
      published: st.ticks.published,
      tickRate: prevPublished === undefined ? NaN : st.ticks.published - prevPublished,
      deliveredPerS: delivered - prevDelivered,
      slowClosed: st.slow_consumers_closed,
    });
    prevPublished = st.ticks.published;
    prevDelivered = delivered;
    const last = samples[samples.length - 1];
    if (samples.length % 30 === 0) {
      log(
        `rss ${last.rssMiB} MiB, heap ${last.heapUsedMiB} MiB, external ${last.externalMiB} MiB, ` +
          `subs ${last.subscribers}, ${last.tickRate} ticks/s, steady deliveries ${last.deliveredPerS}/s, gc ${last.gcMs} ms`,
      );
    }
  } catch (err) {
    log(`sample failed: ${err.message}`);
  } finally {
    sampling = false;
  }
}
t0 = performance.now();
const sampleTimer = setInterval(() => void sample(), 1000);
await new Promise((resolve) => {
  const end = setTimeout(resolve, durationS * 1000);
  server.once('exit', () => {
    clearTimeout(end);
    resolve();
  });
});

// ------------------------------------------------------------------ finish
const serverDied = serverExited; // before we stop it ourselves
stopping = true;
load.stop();
clearInterval(sampleTimer);
while (sampling) await new Promise((r) => setTimeout(r, 50));
const finalStats = serverDied ? undefined : await stats();
inspector.close();
server.kill('SIGTERM');

const windowMin = (durationS - warmupS) / 60;
const series = {
  heapUsed: lib.growth(samples, 'heapUsedMiB', THRESHOLDS.heapUsed, warmupS),
  external: lib.growth(samples, 'externalMiB', THRESHOLDS.external, warmupS),
  rss: lib.growth(samples, 'rssMiB', THRESHOLDS.rss, warmupS),
  arrayBuffers: lib.growth(samples, 'arrayBuffersMiB', THRESHOLDS.external, warmupS), // part of external
};
const growingNames = ['heapUsed', 'external', 'rss'].filter((k) => series[k].growing);
const conclusive = windowMin >= 5 && !serverDied;
const verdict = serverDied
  ? 'fail'
  : !conclusive
    ? 'inconclusive'
    : growingNames.length
      ? 'fail'
      : 'pass';
const delivery = {
  steadySubscribers: steady.length,
  delivered: load.delivered(),
  gaps: steady.reduce((s, x) => s + x.gaps, 0),
  staleDropped: steady.reduce((s, x) => s + x.stale, 0),
  reconnects: steady.reduce((s, x) => s + x.reconnects, 0),
  stallSeconds,
  // The worst steady subscriber's deliveries over what its symbols' steady-feed ticks alone make.
  minDeliveredOverExpected: Math.min(
    ...steady.map((x) => x.delivered / durationS / x.expectedPerS),
  ),
};
const result = {
  parameters: { ...P, durationS, warmupS, thresholds: THRESHOLDS, sampleEveryS: 1 },
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  },
  verdict,
  growing: growingNames,
  series,
  delivery,
  load: { ...counts, finalStats },
  gcMs: {
    mean: +lib.mean(samples.map((s) => s.gcMs)).toFixed(2),
    max: Math.max(...samples.map((s) => s.gcMs)),
  },
  samples,
};
mkdirSync(outDir, { recursive: true });
const stem = path.join(outDir, `soak-${P.minutes}m`);
writeFileSync(`${stem}.json`, JSON.stringify(result, null, 1));

const f = (s) => `${s.start}→${s.end} MiB, slope ${s.slopeMiBPer10min} MiB/10min`;
const svg = lib.renderSvg({
  samples,
  warmupS,
  fits: { rss: series.rss.fit, heapUsed: series.heapUsed.fit, external: series.external.fit },
  title: `tickwire soak, ${P.minutes} min: ${P.rate} ticks/s, ${P.symbols} symbols, ${P.subscribers} steady subscribers, churn ${P.churn}/s`,
  subtitle: `${result.machine.cpu}, ${result.machine.cores} cores, Node ${process.version}; ${counts.churnOpened} churned subscribers, ${counts.feedsChurned} churned feeds`,
  verdictLines: [
    `verdict: ${verdict.toUpperCase()}${growingNames.length ? ` (growing: ${growingNames.join(', ')})` : ''}; deliveries ${delivery.delivered}, gaps ${delivery.gaps}`,
    `post-warm-up: heap ${f(series.heapUsed)}; external ${f(series.external)}; RSS ${f(series.rss)}`,
  ],
});
const png = await lib.svgToPng(svg, `${stem}.png`).catch((err) => {
  console.error(`PNG rendering failed: ${err.message}`);
  return false;
});
if (!png) writeFileSync(`${stem}.svg`, svg);

// ------------------------------------------------------------------ report
console.log(`\nsoak ${P.minutes} min, warm-up ${warmupS} s, window ${windowMin.toFixed(1)} min`);
console.log('growth test: slope > threshold AND last-quarter mean − first-quarter mean > margin');
for (const k of ['heapUsed', 'external', 'arrayBuffers', 'rss']) {
  const s = series[k];
  console.log(
    `  ${k.padEnd(12)} ${f(s)} (threshold ${s.thresholdMiBPer10min}), quarters ${s.firstQuarterMean}→${s.lastQuarterMean} ` +
      `(rise ${s.quarterRise}, margin ${s.quarterMarginMiB})${s.growing ? '  GROWING' : ''}`,
  );
}
console.log(
  `deliveries: ${delivery.delivered} to ${delivery.steadySubscribers} steady subscribers, gaps ${delivery.gaps}, ` +
    `reconnects ${delivery.reconnects}, stalled subscriber-seconds ${delivery.stallSeconds}`,
);
console.log(
  `load: ${counts.ticksSent} ticks sent by the steady feed, ${counts.churnOpened} churned subscribers ` +
    `(${JSON.stringify(counts.churnByKind)}), ${counts.feedsChurned} churned feeds, close codes ${JSON.stringify(counts.closeCodes)}`,
);
console.log(`forced GC: mean ${result.gcMs.mean} ms, max ${result.gcMs.max} ms`);
console.log(
  `wrote ${stem}.json and ${png ? `${stem}.png` : `${stem}.svg (no Chromium: SVG only)`}`,
);
if (verdict === 'fail') {
  console.error(
    serverDied
      ? 'SOAK FAILED: the server exited during the run'
      : `SOAK FAILED: memory keeps growing after warm-up: ${growingNames.join(', ')}`,
  );
} else if (verdict === 'inconclusive') {
  console.log(
    'verdict: inconclusive (window under 5 minutes: figures only, run longer for a verdict)',
  );
} else console.log('verdict: PASS (no memory series keeps growing after warm-up)');
setTimeout(() => process.exit(verdict === 'fail' ? 1 : 0), 300);
