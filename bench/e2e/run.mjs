/**
 * End-to-end benchmark orchestrator. For each run it starts one server
 * (tickwire from dist/, or a peer from bench/peers/) pinned to core 0, then a
 * subscriber process and a feed process pinned to core 1, and collects
 * delivered/expected, order checks, latency, server CPU and peak RSS.
 * Usage: node bench/e2e/run.mjs [--quick]
 * Writes bench/results/latest.{md,json} (or quick.{md,json} with --quick).
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, parseFlags, peakRssMb } from './lib.mjs';
import {
  failed,
  fanoutTable,
  fmtInt,
  ingestTable,
  latencyTable,
  perCpu,
  ratio,
} from './format.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const flags = parseFlags(process.argv.slice(2));
const quick = flags.quick === 'true';
/** Extra node flags for the server under test, e.g. `--server-node-args=--cpu-prof` (profiling only). */
const serverNodeArgs = flags['server-node-args'] ? flags['server-node-args'].split(' ') : [];
/** `--servers a,b` and `--scenarios fanout,latency` restrict the matrix (results go to `--out`). */
const onlyServers = flags.servers ? flags.servers.split(',') : undefined;
const onlyScenarios = flags.scenarios ? flags.scenarios.split(',') : undefined;
/**
 * Single cells for side-by-side work: `--rates 10000 --lat-subs 100` restrict
 * the latency matrix, `--fan-subs 100 --fan-syms 10` the fan-out matrix, and
 * `--tickwire-main PATH` runs another tickwire build (e.g. an old dist copy).
 */
/** `--decode lean`: subscribers walk MessagePack updates without a full decode (see lean.mjs). */
const decode = flags.decode === 'lean' ? 'lean' : 'full';
const numList = (v) => (v ? v.split(',').map(Number) : undefined);
const onlyRates = numList(flags.rates);
const onlyLatSubs = numList(flags['lat-subs']);
const onlyFanSubs = numList(flags['fan-subs']);
const onlyFanSyms = numList(flags['fan-syms']);
const TOKEN = 'bench-feed-token-0123456789';
const BACKPRESSURE = 256 * 1024 * 1024;

let hasTaskset = false;
try {
  execFileSync('taskset', ['-c', '0', 'true']);
  hasTaskset = os.cpus().length >= 2;
} catch {
  hasTaskset = false;
}

/** `--server-wrap "perf record -g -o F --"`: a command prefix for the server (profiling only). */
const serverWrap = flags['server-wrap'] ? flags['server-wrap'].split(' ') : [];

function pinned(core, args, wrap = []) {
  if (wrap.length > 0)
    return hasTaskset
      ? ['taskset', ['-c', String(core), ...wrap, process.execPath, ...args]]
      : [wrap[0], [...wrap.slice(1), process.execPath, ...args]];
  return hasTaskset
    ? ['taskset', ['-c', String(core), process.execPath, ...args]]
    : [process.execPath, args];
}

function start(core, args, ipc, wrap) {
  const [cmd, argv] = pinned(core, args, wrap);
  return spawn(cmd, argv, {
    cwd: root,
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

function waitListening(child) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start')), 15000);
    child.stdout.on('data', (d) => {
      buf += d.toString();
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

function nextMessage(child, type, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`timeout waiting for ${type}`));
    }, timeoutMs);
    const on = (m) => {
      if (m.type === type) {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
}

const SERVERS = {
  tickwire: [
    flags['tickwire-main'] ?? 'dist/src/main.js',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--feed-token',
    TOKEN,
    '--max-backpressure',
    String(BACKPRESSURE),
    // No conflation either: a run must deliver every update to count.
    '--conflate-at',
    String(BACKPRESSURE),
    // The load comes from one address, up to 1,000 subscribers plus a feed,
    // at up to a million ticks/s: the production limits would refuse it.
    '--max-connections',
    '0',
    '--max-connections-per-ip',
    '0',
    '--feed-rate',
    '0',
  ],
  // Two tickwire nodes on one nats-server (JetStream, file storage): the feed
  // on node A, every subscriber on node B, so each update crosses the bus.
  'tickwire-nats': [],
  'uws-raw': ['bench/peers/uws-raw.mjs', '--port', '0'],
  'ws-json': ['bench/peers/ws-json.mjs', '--port', '0'],
  'ws-msgpack': ['bench/peers/ws-msgpack.mjs', '--port', '0'],
  socketio: ['bench/peers/socketio.mjs', '--port', '0'],
};

const natsAvailable = spawnSync('nats-server', ['--version']).status === 0;
if (!natsAvailable)
  console.warn('NOTICE: nats-server not found: the tickwire-nats rows are skipped');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(port) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('tickwire node not ready');
}

/**
 * Starts what a run measures: one server process, or for tickwire-nats a
 * nats-server and two tickwire nodes (all on core 0). Returns the ports the
 * feed and the subscribers use, the server-side pids (CPU and RSS are summed
 * over them) and a stop function.
 */
async function startTarget(server) {
  if (server !== 'tickwire-nats') {
    const srv = start(0, [...serverNodeArgs, ...SERVERS[server]], false, serverWrap);
    try {
      const port = await waitListening(srv);
      return {
        feedPort: port,
        subPort: port,
        procs: [srv],
        protocol: server,
        stop: () => stop(srv),
      };
    } catch (err) {
      kill(srv);
      throw err;
    }
  }
  const natsPort = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'tw-bench-nats-'));
  const [cmd, argv] = hasTaskset
    ? [
        'taskset',
        [
          '-c',
          '0',
          'nats-server',
          '-a',
          '127.0.0.1',
          '-p',
          String(natsPort),
          '-js',
          '-sd',
          storeDir,
        ],
      ]
    : ['nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', storeDir]];
  const nats = spawn(cmd, argv, { stdio: 'ignore' });
  const procs = [nats];
  const stopAll = async () => {
    for (const p of procs.slice(1)) await stop(p);
    kill(nats);
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    const nodeArgs = [
      ...serverNodeArgs,
      ...SERVERS.tickwire,
      '--nats',
      `nats://127.0.0.1:${natsPort}`,
    ];
    await new Promise((r) => setTimeout(r, 300));
    const a = start(0, nodeArgs, false);
    procs.push(a);
    const b = start(0, nodeArgs, false);
    procs.push(b);
    const [feedPort, subPort] = [await waitListening(a), await waitListening(b)];
    await waitReady(feedPort);
    await waitReady(subPort);
    return { feedPort, subPort, procs, protocol: 'tickwire', stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function alive(child) {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

function kill(child) {
  if (alive(child)) child.kill('SIGKILL');
}

/** SIGTERM first (so `--cpu-prof` can write its profile), SIGKILL after 5 s. */
async function stop(child) {
  if (!alive(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => kill(child), 5000);
  await exited;
  clearTimeout(timer);
}

async function measureFloor() {
  const srv = start(0, ['bench/e2e/floor.mjs', '--role', 'server'], false);
  try {
    const port = await waitListening(srv);
    const cli = start(
      1,
      [
        'bench/e2e/floor.mjs',
        '--role',
        'client',
        '--port',
        String(port),
        '--count',
        quick ? '5000' : '20000',
      ],
      true,
    );
    const r = await nextMessage(cli, 'floor', 60000);
    return r;
  } finally {
    kill(srv);
  }
}

/** One run: server + subscribers + feed. */
async function run({ server, scenario, subscribers, symbols, mode, rate, duration, budget }) {
  const row = {
    server,
    scenario,
    subscribers,
    symbols,
    rate: mode === 'rate' ? rate : null,
    delivered: 0,
    expected: 0,
    lost: 0,
    reordered: 0,
    duplicates: 0,
    deliveries_per_s: null,
    ticks_sent: 0,
    cpu_s: NaN,
    rss_mb: NaN,
    latency_us: { p50: null, p99: null, p999: null, max: null },
    latency_from_send_us: { p50: null, p99: null, p999: null, max: null },
  };
  let target;
  let subs;
  let feed;
  try {
    target = await startTarget(server);
    const pids = target.procs.map((p) => p.pid);
    const cpuNow = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    subs = start(
      1,
      [
        'bench/e2e/subs.mjs',
        '--server',
        target.protocol,
        '--port',
        String(target.subPort),
        '--subs',
        String(subscribers),
        '--warmup',
        mode === 'rate' ? '500' : '0',
        '--decode',
        decode,
      ],
      true,
    );
    await nextMessage(subs, 'ready', 60000);
    const cpu0 = cpuNow();
    const feedArgs = [
      'bench/e2e/feed.mjs',
      '--server',
      target.protocol,
      '--port',
      String(target.feedPort),
      '--token',
      TOKEN,
      '--symbols',
      String(symbols),
      '--duration',
      String(duration),
      '--mode',
      mode,
    ];
    if (mode === 'rate') feedArgs.push('--rate', String(rate));
    if (budget !== undefined) feedArgs.push('--budget', String(budget));
    feed = start(1, feedArgs, true);
    const done = await nextMessage(feed, 'done', (duration + 60) * 1000);
    row.ticks_sent = done.sent;
    row.expected = done.sent * subscribers;
    // Drain: wait until everything arrived, or the subscribers' process has
    // received nothing for 3 s by its own clock (max 120 s). It is polled and
    // each answer awaited, so a process busy with a backlog is never taken
    // for a stalled one.
    const drainStart = Date.now();
    for (;;) {
      subs.send({ type: 'poll' });
      const p = await nextMessage(subs, 'progress', 120000);
      if (p.delivered >= row.expected || Date.now() - drainStart > 120000) break;
      const idleUs = p.lastUs > 0 ? p.nowUs - p.lastUs : (Date.now() - drainStart) * 1000;
      if (idleUs > 3_000_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    row.cpu_s = cpuNow() - cpu0;
    row.rss_mb = pids.reduce((sum, pid) => sum + peakRssMb(pid), 0);
    subs.send({ type: 'summary' });
    const s = await nextMessage(subs, 'summary', 30000);
    row.delivered = s.delivered;
    row.reordered = s.reordered;
    row.duplicates = s.duplicates;
    row.lost = row.expected - s.delivered;
    row.latency_us = {
      p50: s.latency.p50,
      p99: s.latency.p99,
      p999: s.latency.p999,
      max: s.latency.max,
    };
    row.latency_from_send_us = s.latencyFromSend;
    row.frames = s.frames;
    row.bytes = s.bytes;
    if (s.closed > 0) row.error = `${s.closed} subscribers closed: ${s.closeReasons}`;
    const spanS = (s.lastUs - done.startUs) / 1e6;
    row.deliveries_per_s = spanS > 0 ? s.delivered / spanS : null;
    if (failed(row)) row.deliveries_per_s = null;
  } catch (err) {
    row.error = err.message;
  } finally {
    kill(feed);
    kill(subs);
    await target?.stop();
  }
  const tag = failed(row)
    ? `FAILED ${row.error ?? ''} lost=${row.lost} reordered=${row.reordered}`
    : `${fmtInt(row.deliveries_per_s)}/s p99=${fmtInt(row.latency_us.p99)}µs`;
  console.log(
    `${scenario.padEnd(8)} ${server.padEnd(10)} subs=${subscribers} sym=${symbols} rate=${row.rate ?? 'max'} sent=${row.ticks_sent} delivered=${row.delivered}/${row.expected} cpu=${row.cpu_s.toFixed(2)}s rss=${row.rss_mb.toFixed(0)}MB frames=${row.frames} B/update=${row.delivered > 0 ? (row.bytes / row.delivered).toFixed(1) : '-'} -> ${tag}${row.rate ? ` p50=${fmtInt(row.latency_us.p50)} p99.9=${fmtInt(row.latency_us.p999)}` : ''}`,
  );
  return row;
}

const servers = Object.keys(SERVERS).filter((s) => s !== 'tickwire-nats' || natsAvailable);
// `--quick` must finish in under a minute here, build included: each run
// costs 2.5-4 s of process start-up, connect and drain besides its load, so
// the quick matrix is 10 short runs: fan-out against every peer (the ratio
// targets), latency for tickwire, raw uWS and NATS only (the floor and hop
// targets), ingest for tickwire and raw uWS. bench:quick compiles only the
// server (`npm install` built the rest): 7 s instead of 16 s of build. With
// 13 runs and the full build it took 76 s on a slow day (2026-12-04).
const fanDuration = quick ? 1 : 3;
const latDuration = quick ? 1.5 : 4;
// Bound expected deliveries per fan-out run: the subscribers share one core.
const fanBudget = quick ? 600_000 : 6_000_000;
const fanMatrix = (
  quick
    ? [[100, 1000]]
    : [
        [10, 10],
        [10, 1000],
        [100, 10],
        [100, 1000],
        [1000, 10],
        [1000, 1000],
      ]
).filter(
  ([subs, syms]) =>
    (onlyFanSubs === undefined || onlyFanSubs.includes(subs)) &&
    (onlyFanSyms === undefined || onlyFanSyms.includes(syms)),
);
const latMatrix = (
  quick
    ? [[10_000, 10]]
    : [
        [1_000, 10],
        [1_000, 100],
        [10_000, 10],
        [10_000, 100],
      ]
).filter(
  ([rate, subs]) =>
    (onlyRates === undefined || onlyRates.includes(rate)) &&
    (onlyLatSubs === undefined || onlyLatSubs.includes(subs)),
);
const matrixServers = onlyServers ?? servers;
const wants = (scenario) => onlyScenarios === undefined || onlyScenarios.includes(scenario);

const t0 = Date.now();
const floor = await measureFloor();
console.log(
  `floor (TCP ping-pong RTT, cores 0↔1): p50=${floor.p50} p99=${floor.p99} p99.9=${floor.p999} µs`,
);
const rows = [];
// The NATS rows: a reduced matrix (each run starts nats-server and two nodes).
const natsSkips = (scenario, subscribers) =>
  quick ? scenario !== 'latency' : scenario === 'fanout' && subscribers >= 1000;
if (wants('fanout'))
  for (const [subscribers, symbols] of fanMatrix)
    for (const server of matrixServers)
      if (server !== 'tickwire-nats' || !natsSkips('fanout', subscribers))
        rows.push(
          await run({
            server,
            scenario: 'fanout',
            subscribers,
            symbols,
            mode: 'max',
            duration: fanDuration,
            budget: Math.floor(fanBudget / subscribers),
          }),
        );
const QUICK_LATENCY_SERVERS = ['tickwire', 'tickwire-nats', 'uws-raw'];
if (wants('latency'))
  for (const [rate, subscribers] of latMatrix)
    for (const server of quick
      ? matrixServers.filter((s) => QUICK_LATENCY_SERVERS.includes(s))
      : matrixServers)
      if (server !== 'tickwire-nats' || !natsSkips('latency', subscribers))
        rows.push(
          await run({
            server,
            scenario: 'latency',
            subscribers,
            symbols: 100,
            mode: 'rate',
            rate,
            duration: latDuration,
          }),
        );
if (wants('ingest'))
  for (const server of quick ? ['tickwire', 'uws-raw'] : matrixServers)
    if (server !== 'tickwire-nats' || !natsSkips('ingest', 1))
      rows.push(
        await run({
          server,
          scenario: 'ingest',
          subscribers: 1,
          symbols: 1000,
          mode: 'max',
          duration: quick ? 1 : 3,
          budget: quick ? 5_000_000 : 20_000_000,
        }),
      );

// Ratios.
const get = (scenario, server, subs, syms, rate) =>
  rows.find(
    (r) =>
      r.scenario === scenario &&
      r.server === server &&
      r.subscribers === subs &&
      (syms === undefined || r.symbols === syms) &&
      (rate === undefined || r.rate === rate),
  );
const val = (r) => (r && !failed(r) ? r.deliveries_per_s : NaN);
const eff = (r) => (r && !failed(r) ? perCpu(r) : NaN);
const ratioLines = [];
for (const [subs, syms] of fanMatrix.filter(([s]) => s === 100 || quick)) {
  const tw = val(get('fanout', 'tickwire', subs, syms));
  ratioLines.push(
    `- fan-out ${subs} subs × ${syms} symbols: tickwire / ws+JSON ${ratio(tw, val(get('fanout', 'ws-json', subs, syms)))} (goal ≥ 10×), / ws+msgpack ${ratio(tw, val(get('fanout', 'ws-msgpack', subs, syms)))} (goal ≥ 3×), / Socket.IO ${ratio(tw, val(get('fanout', 'socketio', subs, syms)))} (goal ≥ 15×), / raw uWS ${ratio(tw, val(get('fanout', 'uws-raw', subs, syms)))} (goal ≥ 0.90×)`,
  );
  const te = eff(get('fanout', 'tickwire', subs, syms));
  ratioLines.push(
    `  - same runs, deliveries per server CPU second: tickwire / ws+JSON ${ratio(te, eff(get('fanout', 'ws-json', subs, syms)))}, / ws+msgpack ${ratio(te, eff(get('fanout', 'ws-msgpack', subs, syms)))}, / Socket.IO ${ratio(te, eff(get('fanout', 'socketio', subs, syms)))}, / raw uWS ${ratio(te, eff(get('fanout', 'uws-raw', subs, syms)))}`,
  );
}
const l = get('latency', 'tickwire', 10, 100, 10_000);
if (l) {
  const ok = !failed(l);
  ratioLines.push(
    `- latency 10k ticks/s × 10 subs, tickwire: p99 ${ok ? fmtInt(l.latency_us.p99) : 'FAILED'} µs vs 2× floor RTT p99 = ${fmtInt(2 * floor.p99)} µs (${ok && l.latency_us.p99 <= 2 * floor.p99 ? 'met' : 'missed'}); p99.9 ${ok ? fmtInt(l.latency_us.p999) : 'FAILED'} µs vs 1,000 µs (${ok && l.latency_us.p999 <= 1000 ? 'met' : 'missed'}); from actual send: p99 ${ok ? fmtInt(l.latency_from_send_us.p99) : 'FAILED'} µs, p99.9 ${ok ? fmtInt(l.latency_from_send_us.p999) : 'FAILED'} µs`,
  );
}
const ing = (s) => val(get('ingest', s, 1));
ratioLines.push(
  `- ingest (batches of 100, 1 subscriber): tickwire / raw uWS ${ratio(ing('tickwire'), ing('uws-raw'))}`,
);

// The cost of the NATS hop: the same runs on the embedded bus vs two nodes on NATS.
const hopLines = [];
for (const r of rows.filter((x) => x.server === 'tickwire-nats')) {
  const e = get(r.scenario, 'tickwire', r.subscribers, r.symbols, r.rate ?? undefined);
  if (e === undefined) continue;
  const what = `${r.scenario} ${r.subscribers} subs × ${r.symbols} symbols${r.rate ? ` at ${fmtInt(r.rate)} ticks/s` : ''}`;
  if (failed(r) || failed(e)) {
    hopLines.push(`- ${what}: ${failed(r) ? 'NATS run FAILED' : 'embedded run FAILED'}`);
  } else if (r.scenario === 'latency') {
    hopLines.push(
      `- ${what}: p50 ${fmtInt(e.latency_us.p50)} → ${fmtInt(r.latency_us.p50)} µs (+${fmtInt(r.latency_us.p50 - e.latency_us.p50)}), p99 ${fmtInt(e.latency_us.p99)} → ${fmtInt(r.latency_us.p99)} µs, server CPU ${e.cpu_s.toFixed(2)} → ${r.cpu_s.toFixed(2)} s (nats-server and both nodes)`,
    );
  } else {
    hopLines.push(
      `- ${what}: ${fmtInt(e.deliveries_per_s)} → ${fmtInt(r.deliveries_per_s)} deliveries/s (NATS / embedded ${ratio(r.deliveries_per_s, e.deliveries_per_s)}), deliveries per CPU second ${ratio(perCpu(r), perCpu(e))} of embedded`,
    );
  }
}

let cpuModel = os.cpus()[0]?.model ?? 'unknown';
const md = [
  `# tickwire end-to-end benchmark${quick ? ' (quick)' : ''}`,
  '',
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${cpuModel}, ${os.cpus().length} vCPU, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()} (shared, noisy)`,
  `- Node: ${process.version}`,
  `- Pinning: ${hasTaskset ? 'server on core 0, feed + subscriber processes on core 1 (`taskset -c`)' : 'none (taskset unavailable or < 2 cores)'}`,
  `- Floor (loopback TCP ping-pong round trip, node:net, 32-byte messages, cores 0↔1, measured in this run): p50 ${fmtInt(floor.p50)} µs, p99 ${fmtInt(floor.p99)} µs, p99.9 ${fmtInt(floor.p999)} µs, max ${fmtInt(floor.max)} µs`,
  `- tickwire: built \`dist/src/main.js\`, \`--max-backpressure ${BACKPRESSURE}\`; peers in \`bench/peers/\`. Ticks are \`{s, p, q, ts, sa, k}\`; \`ts\` is the intended send time (µs), \`sa\` the actual send time, \`k\` the feed's per-symbol sequence used to check order.`,
  `- A run that lost, duplicated or reordered updates, or had a subscriber closed, is FAILED and has no figure. After the feed stops, the driver waits until every expected update arrived, or until the subscribers' process, asked in turn, has received nothing for 3 s by its own clock (at most 120 s).`,
  `- Subscriber decode: ${decode === 'lean' ? 'lean (MessagePack updates walked by bench/e2e/lean.mjs, only s, k, ts, sa materialized; JSON and Socket.IO decode fully)' : 'full (msgpackr / JSON.parse / Socket.IO parser)'}`,
  `- Wall time: ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  '',
  'Profiles behind the fixes, with before/after figures: [PROFILE.md](PROFILE.md).',
  '',
  '## Ratios (targets)',
  '',
  ...ratioLines,
  '',
  '## NATS bus: two nodes vs the embedded bus',
  '',
  'Rows `tickwire-nats`: a nats-server (JetStream, file storage) and two tickwire nodes, all on core 0; the feed connects to node A and every subscriber to node B, so each update is sequenced through JetStream (publish with the expected-last-subject-sequence guard, wait for the PubAck) and delivered to B by its stream consumer. CPU and RSS are the sum of the three processes.',
  '',
  ...(hopLines.length > 0
    ? hopLines
    : ['- (no NATS rows in this run: nats-server missing or filtered out)']),
  '',
  '## Fan-out throughput',
  '',
  `Feed pushes batches of 100 ticks as fast as the server accepts them for ${fanDuration} s or until ${fmtInt(fanBudget)} expected deliveries (subscribers share one core with the feed, so the budget keeps server queues bounded); every subscriber subscribes to all symbols (\`*\` / topic \`all\`). deliveries/s = delivered / (last receive − feed start), so it includes draining queued updates. p99 here is queueing delay, not a latency figure.`,
  '',
  fanoutTable(rows.filter((r) => r.scenario === 'fanout')),
  '',
  '## Latency at fixed load',
  '',
  `Open-loop feed on a 1 ms timer, ${latDuration} s per run, 100 symbols. Latency = receive − intended send time (coordinated omission included; this includes the generator's own 1 ms timer granularity and any stall of the shared load core). "From actual send" = receive − time the frame was handed to the feed socket. The first 500 ms of each run are warm-up and not recorded (all updates are still counted).`,
  '',
  latencyTable(
    rows.filter((r) => r.scenario === 'latency'),
    floor,
  ),
  '',
  '## Ingest',
  '',
  'One feed, batches of 100 ticks, as fast as accepted; one subscriber on everything confirms each tick was accepted and fanned out (ticks/s = delivered / span).',
  '',
  ingestTable(rows.filter((r) => r.scenario === 'ingest')),
  '',
].join('\n');

const outDir = path.join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const base = flags.out ?? (quick ? 'quick' : 'latest');
const jsonRows = rows.map((r) => ({
  server: r.server,
  scenario: r.scenario,
  subscribers: r.subscribers,
  symbols: r.symbols,
  rate: r.rate,
  delivered: r.delivered,
  expected: r.expected,
  lost: r.lost,
  reordered: r.reordered,
  duplicates: r.duplicates,
  frames_received: r.frames ?? null,
  bytes_received: r.bytes ?? null,
  failed: failed(r),
  error: r.error ?? null,
  deliveries_per_s: r.deliveries_per_s === null ? null : Math.round(r.deliveries_per_s),
  cpu_s: Number.isFinite(r.cpu_s) ? Number(r.cpu_s.toFixed(2)) : null,
  rss_mb: Number.isFinite(r.rss_mb) ? Number(r.rss_mb.toFixed(1)) : null,
  deliveries_per_cpu_s:
    r.deliveries_per_s === null || !(r.cpu_s > 0) ? null : Math.round(r.delivered / r.cpu_s),
  latency_us: r.latency_us,
  latency_from_send_us: r.latency_from_send_us,
}));
// `--out NAME` writes bench/results/NAME.*; an absolute path is used as is.
const outBase = path.resolve(outDir, base);
mkdirSync(path.dirname(outBase), { recursive: true });
writeFileSync(`${outBase}.md`, md);
writeFileSync(
  `${outBase}.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      machine: cpuModel,
      pinning: hasTaskset,
      floor_rtt_us: floor,
      rows: jsonRows,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\n${ratioLines.join('\n')}\n\nwrote ${outBase}.md and .json`);
process.exit(0);
