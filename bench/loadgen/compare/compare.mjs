/**
 * Hand-framed loader vs libwebsockets, as subscribers (issue 13's "justify it
 * with a measurement"). Builds lws-sub (this folder) and the loader, starts the
 * raw uWS peer pinned to core 0, and for each load runs, alternating within
 * the run, (a) the loader as subscribers only (`run --subs N`, no rate: it
 * listens for --duration) and (b) lws-sub, each pinned to core 1, while a
 * separate feed process (the loader with --subs 0, also on core 1, the same
 * for both) sends. Each subscriber process reports its own CPU over its
 * listening window (getrusage); the figure compared is that CPU per delivery.
 *
 * Usage: node bench/loadgen/compare/compare.mjs [--reps 3] [--seconds 10]
 *          [--subs 100] [--sample 0] [--rx-buf 65536] [--loads b100-20k,b1-5k,...] [--json FILE]
 * Needs `npm run build` once (the peer loads uWS from dist/) and
 * libwebsockets-dev. Prints a table; --json also writes every trial.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../../peers/lib.mjs';
import { ensureLoadgen } from '../build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const SRC = resolve(here, '../src');
const OUT = join(here, 'build');
const LWS_SUB = join(OUT, 'lws-sub');

const flags = parseFlags(process.argv.slice(2));
const REPS = Number(flags.reps ?? 3);
const SECONDS = Number(flags.seconds ?? 10);
const SUBS = Number(flags.subs ?? 100);
const SAMPLE = Number(flags.sample ?? 0);
const RX_BUF = Number(flags['rx-buf'] ?? 65536);
const LEAD_S = 1; // subscribers connect before the feed starts
const TAIL_S = 5; // time to drain after the feed stops (lws-sub lags 1-2 s at 2 M/s)
const SERVER_CPU = '0';
const LOADER_CPU = '1';

// The two loads of the brief (2 M and 0.5 M deliveries/s), each also at a lower rate
// (a quarter; a fifth for single ticks). Single ticks also with read sweeps every
// 1 ms (--read-us 1000, both clients): one read per wake-up costs a wake-up per
// message there, which hides everything else.
const LOADS = [
  { name: 'b100-20k', rate: 20000, batch: 100, readUs: 0 },
  { name: 'b100-5k', rate: 5000, batch: 100, readUs: 0 },
  // --sample 1: every update walked, order-checked and its latency recorded (as in latency runs)
  { name: 'b100-5k-walk', rate: 5000, batch: 100, readUs: 0, sample: 1 },
  { name: 'b1-5k', rate: 5000, batch: 1, readUs: 0 },
  { name: 'b1-5k-r1ms', rate: 5000, batch: 1, readUs: 1000 },
  { name: 'b1-1k', rate: 1000, batch: 1, readUs: 0 },
  { name: 'b1-1k-r1ms', rate: 1000, batch: 1, readUs: 1000 },
];
const SELECTED = flags.loads
  ? LOADS.filter((l) => String(flags.loads).split(',').includes(l.name))
  : LOADS;
// As in the loader's report: a process above this share of its core measured itself.
const BOUND_SHARE = 0.7;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr ?? ''}${r.error?.message ?? ''}`);
  }
  return r.stdout.trim();
}

/** Compiles lws-sub against the system libwebsockets and the loader's sources (not main.c). */
function buildLwsSub() {
  const cflags = run('pkg-config', ['--cflags', 'libwebsockets']).split(/\s+/).filter(Boolean);
  const libs = run('pkg-config', ['--libs', 'libwebsockets']).split(/\s+/).filter(Boolean);
  const loaderSources = readdirSync(SRC)
    .filter((f) => f.endsWith('.c') && f !== 'main.c')
    .sort()
    .map((f) => join(SRC, f));
  mkdirSync(OUT, { recursive: true });
  const cc = process.env.CC || 'cc';
  const args = ['-O2', '-Wall', '-Wextra', '-D_GNU_SOURCE', ...cflags, '-o', LWS_SUB];
  run(cc, [...args, join(here, 'lws-sub.c'), ...loaderSources, ...libs, '-lm']);
  return LWS_SUB;
}

/** Spawns a process pinned to `cpu`; resolves with its stdout when it exits. */
function pinned(cpu, cmd, args) {
  const child = spawn('taskset', ['-c', cpu, cmd, ...args.map(String)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  const done = new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) =>
      res({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
  return { child, done };
}

function lastJson(r, what) {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{'))
    throw new Error(`${what} exited ${r.code} without a report: ${r.stderr}`);
  return JSON.parse(line);
}

async function startPeer() {
  const { child } = pinned(SERVER_CPU, process.execPath, ['bench/peers/uws-raw.mjs', '--port', 0]);
  const port = await new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error('peer did not start in 10 s')), 10_000);
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /peer listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.on('close', (code) => rej(new Error(`peer exited ${code}`)));
  });
  return { child, port };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const TICK = 100; // USER_HZ: /proc reports CPU in 1/100 s on Linux

/** Seconds of CPU the whole machine has spent busy (all cores, from /proc/stat). */
function hostBusyS() {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return (total - f[3] - f[4]) / TICK; // minus idle and iowait
}

/** utime + stime of a process in seconds (/proc/PID/stat). */
function procCpuS(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/**
 * Waits until the peer has flushed what the last trial left (under 3% of a core)
 * and nothing else on the machine uses more than 10% of a core, over 1 s
 * samples, for at most 120 s. Other work on this shared host (other sessions'
 * benchmarks) would otherwise share the server's core. Returns the seconds waited
 * and the last sample's other load.
 */
async function settle(peerPid) {
  const t0 = Date.now();
  for (;;) {
    const b0 = hostBusyS();
    const p0 = procCpuS(peerPid);
    await sleep(1000);
    const peer = procCpuS(peerPid) - p0;
    const other = hostBusyS() - b0 - peer;
    const waited = (Date.now() - t0) / 1000;
    if ((peer < 0.03 && other < 0.1) || waited > 120) return { waited, other };
  }
}

/** One trial: a subscriber process (hand or lws) on core 1 while the feed sends. */
async function trial(tool, load, peer, loadgen, seconds = SECONDS) {
  const { port } = peer;
  const quiet = await settle(peer.child.pid);
  const listen = LEAD_S + seconds + TAIL_S;
  const sample = load.sample ?? SAMPLE;
  const busy0 = hostBusyS();
  const peer0 = procCpuS(peer.child.pid);
  const subArgs =
    tool === 'hand'
      ? `run --peer uws-raw --port ${port} --subs ${SUBS} --duration ${listen} --sample ${sample}`
      : `--port ${port} --subs ${SUBS} --duration ${listen} --sample ${sample} --rx-buf ${RX_BUF}`;
  const sweep = load.readUs ? ` --read-us ${load.readUs}` : '';
  const sub = pinned(LOADER_CPU, tool === 'hand' ? loadgen : LWS_SUB, (subArgs + sweep).split(' '));
  await sleep(LEAD_S * 1000);
  const feedArgs = `run --peer uws-raw --port ${port} --subs 0 --rate ${load.rate} --batch ${load.batch} --duration ${seconds}`;
  const feed = lastJson(await pinned(LOADER_CPU, loadgen, feedArgs.split(' ')).done, 'feed');
  const r = lastJson(await sub.done, tool);
  // What else ran on the machine meanwhile: all busy CPU minus the peer, the
  // subscriber process and the feed (10 ms resolution; a rough noise gauge).
  const mine =
    procCpuS(peer.child.pid) -
    peer0 +
    (tool === 'hand' ? r.cpu_user_s + r.cpu_sys_s : r.process_cpu_s) +
    feed.cpu_user_s +
    feed.cpu_sys_s;
  const otherShare = (hostBusyS() - busy0 - mine) / listen;
  const expected = SUBS * feed.sent_ticks;
  const delivered = tool === 'hand' ? r.delivered : r.deliveries;
  // The loader's window CPU (user + system) covers exactly its listening time, like lws-sub's.
  const cpu = tool === 'hand' ? r.window.cpu_s : r.cpu_user_s + r.cpu_sys_s;
  const wall = tool === 'hand' ? r.window.wall_s : r.wall_s;
  return {
    tool,
    load: load.name,
    rate: load.rate,
    batch: load.batch,
    read_us: load.readUs,
    sample,
    subscribers: SUBS,
    expected,
    delivered,
    messages: tool === 'hand' ? r.frames : r.messages,
    complete: delivered === expected && r.status === 'ok',
    cpu_s: cpu,
    // the loader splits user/system only over its whole process (connects included)
    cpu_user_s: r.cpu_user_s,
    cpu_sys_s: r.cpu_sys_s,
    wall_s: wall,
    cpu_share_of_feed: cpu / feed.feed_s,
    ns_per_delivery: delivered > 0 ? (cpu * 1e9) / delivered : null,
    // empty when every update was counted from its frame's array header (--sample 0)
    latency_us: { p50: r.latency_us.p50, p99: r.latency_us.p99, count: r.latency_us.count },
    feed_send_lag_p99_us: feed.send_lag_us.p99,
    status: r.status,
    settle_s: quiet.waited,
    other_share: otherShare,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function describe(t) {
  return (
    `${t.load.padEnd(10)} ${t.tool.padEnd(4)} ${(t.ns_per_delivery?.toFixed(0) ?? 'n/a').padStart(5)} ns/delivery` +
    `  cpu ${t.cpu_s.toFixed(2)} s (user ${t.cpu_user_s.toFixed(2)}, sys ${t.cpu_sys_s.toFixed(2)};` +
    ` ${(t.cpu_share_of_feed * 100).toFixed(0)}% of the feed time)` +
    `  ${t.delivered}/${t.expected}` +
    (t.latency_us.count
      ? `  p50 ${t.latency_us.p50} µs p99 ${t.latency_us.p99} µs`
      : '  (counted)') +
    `  other load ${(t.other_share * 100).toFixed(0)}% of a core` +
    (t.complete ? '' : `  INCOMPLETE (${t.status})`)
  );
}

async function main() {
  if (!existsSync(join(root, 'dist/src/server/uws.js'))) {
    throw new Error('the peer loads uWS from dist/: run `npm run build` first');
  }
  buildLwsSub();
  const loadgen = ensureLoadgen();
  const peer = await startPeer();
  const trials = [];
  try {
    console.log(
      `peer uws-raw on core ${SERVER_CPU} (port ${peer.port}); subscribers and feed on core ${LOADER_CPU};` +
        ` ${SUBS} subscribers, ${SECONDS} s per trial, ${REPS} repetitions, --sample ${SAMPLE}, lws rx ${RX_BUF} B`,
    );
    for (const load of SELECTED) {
      // Warm-up, discarded: the peer's JIT and socket buffers settle.
      await trial('hand', load, peer, loadgen, 3);
      for (let rep = 0; rep < REPS; rep++) {
        // ABBA order, so drift of the shared host does not favour either side.
        const order = rep % 2 === 0 ? ['hand', 'lws'] : ['lws', 'hand'];
        for (const tool of order) {
          const t = { ...(await trial(tool, load, peer, loadgen)), rep };
          trials.push(t);
          console.log(describe(t));
        }
      }
    }
  } finally {
    peer.child.kill('SIGTERM');
  }

  // Medians over complete trials only (every update delivered, status ok): an
  // incomplete one measured a server that fell behind, not the client.
  const rows = [];
  for (const load of SELECTED) {
    const of = (tool) =>
      trials.filter((t) => t.load === load.name && t.tool === tool && t.complete);
    const hand = of('hand');
    const lws = of('lws');
    const med = (ts, f) => (ts.length ? median(ts.map(f)) : NaN);
    const pairs = [];
    for (let rep = 0; rep < REPS; rep++) {
      const h = hand.find((t) => t.rep === rep);
      const l = lws.find((t) => t.rep === rep);
      if (h && l) pairs.push(l.ns_per_delivery / h.ns_per_delivery);
    }
    const userShare = (t) => t.cpu_user_s / (t.cpu_user_s + t.cpu_sys_s);
    rows.push({
      load: load.name,
      rate: load.rate,
      batch: load.batch,
      read_us: load.readUs,
      sample: load.sample ?? SAMPLE,
      subscribers: SUBS,
      hand_ns: med(hand, (t) => t.ns_per_delivery),
      lws_ns: med(lws, (t) => t.ns_per_delivery),
      ratio: med(lws, (t) => t.ns_per_delivery) / med(hand, (t) => t.ns_per_delivery),
      pair_ratios: pairs,
      hand_share: med(hand, (t) => t.cpu_share_of_feed),
      lws_share: med(lws, (t) => t.cpu_share_of_feed),
      hand_user_share: med(hand, userShare),
      lws_user_share: med(lws, userShare),
      hand_p99: med(hand, (t) => (t.latency_us.count ? t.latency_us.p99 : NaN)),
      lws_p99: med(lws, (t) => (t.latency_us.count ? t.latency_us.p99 : NaN)),
      complete: `${hand.length}/${lws.length} of ${REPS}`,
    });
  }
  const pct = (x) => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(0)}%`);
  const num = (x, d = 0) => (Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const bound = (x) => (x > BOUND_SHARE ? ' (bound)' : '');
  console.log(
    '\n| ticks/s × subs, ticks/frame, read, sample | ns/delivery hand | ns/delivery lws | lws/hand | per rep | core share hand / lws | user share hand / lws | p99 µs hand / lws | complete hand/lws |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.rate} × ${r.subscribers}, ${r.batch}, ${r.read_us ? `every ${r.read_us} µs` : 'per wake-up'}, ${r.sample} | ${num(r.hand_ns)} | ${num(r.lws_ns)} | ${num(r.ratio, 2)} |` +
        ` ${r.pair_ratios.map((x) => x.toFixed(2)).join(', ') || 'n/a'} |` +
        ` ${pct(r.hand_share)}${bound(r.hand_share)} / ${pct(r.lws_share)}${bound(r.lws_share)} |` +
        ` ${pct(r.hand_user_share)} / ${pct(r.lws_user_share)} |` +
        ` ${num(r.hand_p99)} / ${num(r.lws_p99)} | ${r.complete} |`,
    );
  }
  console.log(
    `\ncore share: the subscriber process's CPU over the feed's duration; above ${pct(BOUND_SHARE)} it` +
      " is marked bound, as in the loader's report (near saturation; one that falls behind, p99 in" +
      ' hundreds of ms, reads bigger batches, so its ns/delivery is then a lower bound).',
  );
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n${new Date().toISOString()}, ${cpus().length} × ${cpu}, medians of ${REPS}`);
  if (flags.json) {
    writeFileSync(
      flags.json,
      `${JSON.stringify({ date: new Date().toISOString(), machine: `${cpus().length} × ${cpu}`, rows, trials }, null, 2)}\n`,
    );
  }
}

main().catch((e) => {
  console.error(e.message ?? e);
  process.exitCode = 1;
});
