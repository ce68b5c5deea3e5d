/**
 * The servers a benchmark measures, started the way users run them and pinned
 * to the server core: tickwire (built dist/), tickwire on NATS (nats-server
 * and two nodes: the feed on A, subscribers on B) and the peers in
 * bench/peers/. Each start resolves to the ports, the pids whose CPU counts
 * as "server" and a stop function.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const FEED_TOKEN = 'bench-feed-token-0123456789';
const BACKPRESSURE = 256 * 1024 * 1024;

/** Core of the server under test, core of the loader. */
export const SERVER_CORE = 0;
export const LOADER_CORE = 1;

/** Whether `taskset` works and there are two cores to split. */
export const canPin = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return os.cpus().length >= 2;
  } catch {
    return false;
  }
})();

export const natsAvailable = spawnSync('nats-server', ['--version']).status === 0;

/**
 * tickwire as a benchmark runs it: no conflation and a deep send queue (a run
 * must deliver every update to count), and no per-IP or rate limits (the
 * load comes from one address at up to millions of ticks/s).
 */
export function tickwireArgs(main = 'dist/src/main.js') {
  return [
    main,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--feed-token',
    FEED_TOKEN,
    '--max-backpressure',
    String(BACKPRESSURE),
    '--conflate-at',
    String(BACKPRESSURE),
    '--max-connections',
    '0',
    '--max-connections-per-ip',
    '0',
    '--feed-rate',
    '0',
  ];
}

/** Bytes tickwire appends to every tick: "n" uint32 (2 + 5) and "r" uint64 (2 + 9). */
export const TICKWIRE_EXTRA_BYTES = 18;

/** Server name → the loader's `--peer`, the node script that runs it, extra loader flags. */
export const SERVERS = {
  tickwire: { peer: 'tickwire', script: () => tickwireArgs() },
  'uws-raw': { peer: 'uws-raw', script: () => ['bench/peers/uws-raw.mjs', '--port', '0'] },
  'ws-msgpack': { peer: 'ws-msgpack', script: () => ['bench/peers/ws-msgpack.mjs', '--port', '0'] },
  'ws-json': { peer: 'ws-json', script: () => ['bench/peers/ws-json.mjs', '--port', '0'] },
  socketio: { peer: 'socketio', script: () => ['bench/peers/socketio.mjs', '--port', '0'] },
  'tickwire-nats': { peer: 'tickwire', script: () => tickwireArgs() },
  // tickwire publishing per feed frame instead of per event-loop turn (the
  // behaviour up to 0.2): the before of issue 14's pair, in the same run.
  'tickwire-frame': {
    peer: 'tickwire',
    script: () => [...tickwireArgs(), '--coalesce', 'frame'],
  },
  // tickwire with a journal in a fresh temporary directory (issue 16's cost
  // rows): the default sync (interval) and always (acks wait for fdatasync).
  'tickwire-journal': {
    peer: 'tickwire',
    script: (dir) => [...tickwireArgs(), '--journal', dir],
    journal: true,
  },
  'tickwire-journal-always': {
    peer: 'tickwire',
    script: (dir) => [...tickwireArgs(), '--journal', dir, '--journal-sync', 'always'],
    journal: true,
  },
  // raw uWS relaying ticks 18 bytes longer (the loader's --pad: a key "x"
  // and a string), as long as tickwire's updates with `n` (uint32, 7 bytes
  // with its key) and `r` (uint64, 11): what the bytes alone cost a relay.
  'uws-raw-padded': {
    peer: 'uws-raw',
    script: () => ['bench/peers/uws-raw.mjs', '--port', '0'],
    loaderArgs: ['--pad', String(TICKWIRE_EXTRA_BYTES)],
  },
};

function pinnedSpawn(cmd, args, opts) {
  return canPin
    ? spawn('taskset', ['-c', String(SERVER_CORE), cmd, ...args], opts)
    : spawn(cmd, args, opts);
}

function startNode(args, { nodeArgs = [], wrap = [] } = {}) {
  const argv = [...nodeArgs, ...args];
  const opts = { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] };
  return wrap.length > 0
    ? pinnedSpawn(wrap[0], [...wrap.slice(1), process.execPath, ...argv], opts)
    : pinnedSpawn(process.execPath, argv, opts);
}

/** Resolves with the port from the "listening on http://HOST:PORT" line. */
function listeningPort(child) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000);
    child.stdout.on('data', (d) => {
      buf += d.toString();
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening`));
    });
  });
}

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM (so `--cpu-prof` writes its profile), SIGKILL after 10 s. */
async function stopChild(child) {
  if (!alive(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => alive(child) && child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

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
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tickwire node on port ${port} not ready within 20 s`);
}

/**
 * Starts `name` on the server core. `nodeArgs` go before the script (e.g.
 * --cpu-prof), `wrap` is a command prefix (e.g. perf record ... --).
 * Resolves with { name, peer, loaderArgs, feedPort, subPort, pids, stop }.
 */
export async function startTarget(name, { nodeArgs = [], wrap = [] } = {}) {
  const spec = SERVERS[name];
  if (!spec) throw new Error(`unknown server ${name}`);
  if (name !== 'tickwire-nats') {
    // A journal's directory is made for this start and removed after it.
    const dir = spec.journal ? mkdtempSync(path.join(os.tmpdir(), 'tw-bench-journal-')) : '';
    const cleanup = () => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    };
    const child = startNode(spec.script(dir), { nodeArgs, wrap });
    try {
      const port = await listeningPort(child);
      if (spec.peer === 'tickwire') await waitReady(port);
      return {
        name,
        peer: spec.peer,
        loaderArgs: spec.loaderArgs ?? [],
        feedPort: port,
        subPort: port,
        pids: [child.pid],
        stop: async () => {
          await stopChild(child);
          cleanup();
        },
      };
    } catch (err) {
      if (alive(child)) child.kill('SIGKILL');
      cleanup();
      throw err;
    }
  }
  if (!natsAvailable) throw new Error('nats-server is not installed');
  const natsPort = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'tw-bench-nats-'));
  const nats = pinnedSpawn(
    'nats-server',
    ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', storeDir],
    { stdio: 'ignore' },
  );
  const nodes = [];
  const stop = async () => {
    for (const n of nodes) await stopChild(n);
    await stopChild(nats);
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    const args = [...spec.script(), '--nats', `nats://127.0.0.1:${natsPort}`];
    await new Promise((r) => setTimeout(r, 300));
    nodes.push(startNode(args, { nodeArgs, wrap }), startNode(args, { nodeArgs, wrap }));
    const [feedPort, subPort] = [await listeningPort(nodes[0]), await listeningPort(nodes[1])];
    await waitReady(feedPort);
    await waitReady(subPort);
    return {
      name,
      peer: spec.peer,
      loaderArgs: spec.loaderArgs ?? [],
      feedPort,
      subPort,
      pids: [nats.pid, ...nodes.map((n) => n.pid)],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
