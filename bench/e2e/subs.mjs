/**
 * Subscriber process: opens N subscriber connections to one server, counts
 * every update, checks per-symbol order (the feed's `k`), and records
 * (receive time − intended send time `ts`) in µs into an HDR histogram.
 * Talks to the orchestrator over IPC: sends {type:'ready'}, periodic
 * {type:'progress'}, and {type:'summary'} when asked.
 */
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import parser from 'socket.io-msgpack-parser';
import { forEachTick } from './lean.mjs';
import { nowUs, parseFlags, unpackr } from './lib.mjs';

const flags = parseFlags(process.argv.slice(2));
const server = flags.server;
const port = Number(flags.port);
const count = Number(flags.subs);
/** Latency samples from the first `warmup` ms after the first update are not recorded. */
const warmupUs = Number(flags.warmup ?? 0) * 1000;
/**
 * `--decode lean`: MessagePack updates are walked by bench/e2e/lean.mjs, which
 * materializes only s, k, ts and sa (same for every MessagePack server); the
 * default `full` decodes every update with msgpackr, as a typical client would.
 */
const lean = flags.decode === 'lean';

const hist = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 120_000_000,
  numberOfSignificantValueDigits: 3,
});
/** Receive − actual send time: the service latency without the generator's timer lag. */
const histSend = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 120_000_000,
  numberOfSignificantValueDigits: 3,
});
let delivered = 0;
/** WebSocket frames (Socket.IO: events) and payload bytes received, to compare servers' framing. */
let frames = 0;
let bytes = 0;
let reordered = 0;
let duplicates = 0;
let firstUs = 0;
let lastUs = 0;
let closed = 0;
let closeReasons = '';

function makeConn() {
  return { last: new Map() };
}

function onTick(conn, t, now) {
  if (t === null || typeof t !== 'object' || t.op !== undefined) return;
  onFields(conn, t.s, t.k, t.ts, t.sa, now);
}

function onFields(conn, s, k, ts, sa, now) {
  const last = conn.last.get(s) ?? 0;
  if (k === last + 1) {
    delivered++;
    conn.last.set(s, k);
  } else if (k <= last) duplicates++;
  else {
    // A gap: count what arrived, flag the order break.
    reordered++;
    delivered++;
    conn.last.set(s, k);
  }
  if (now - firstUs < warmupUs) return;
  const lat = now - ts;
  hist.recordValue(lat < 1 ? 1 : lat);
  const svc = now - sa;
  histSend.recordValue(svc < 1 ? 1 : svc);
}

let leanConn;
let leanNow = 0;
const leanTick = (s, k, ts, sa) => onFields(leanConn, s, k, ts, sa, leanNow);

/** One MessagePack update frame: full decode, or the lean walk with `--decode lean`. */
function onMsgpack(conn, data) {
  if (!lean) return onValue(conn, unpackr.unpack(data));
  const now = nowUs();
  if (firstUs === 0) firstUs = now;
  lastUs = now;
  leanConn = conn;
  leanNow = now;
  forEachTick(data, leanTick);
}

function onValue(conn, v) {
  const now = nowUs();
  if (firstUs === 0) firstUs = now;
  lastUs = now;
  if (Array.isArray(v)) for (const t of v) onTick(conn, t, now);
  else onTick(conn, v, now);
}

function openWs(path, ready, onMessage) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data, isBinary) => {
    frames++;
    bytes += data.length;
    onMessage(data, isBinary);
  });
  ws.on('close', (code, reason) => {
    closed++;
    if (closeReasons.length < 200) closeReasons += `${code} ${reason.toString()}; `;
  });
  ws.on('error', () => {});
  return ws;
}

function connectOne() {
  return new Promise((resolve) => {
    const conn = makeConn();
    if (server === 'tickwire') {
      let isReady = false;
      openWs('/stream?symbols=*', null, (data) => {
        if (!isReady) {
          // Control replies (subscribed, snapshot) come first; always decoded fully.
          const v = unpackr.unpack(data);
          if (v && v.op === 'snapshot') {
            isReady = true;
            resolve();
          }
          return;
        }
        onMsgpack(conn, data);
      });
    } else if (server === 'uws-raw' || server === 'ws-msgpack') {
      openWs('/stream', null, (data, isBinary) => {
        if (!isBinary) return resolve();
        onMsgpack(conn, data);
      });
    } else if (server === 'ws-json') {
      openWs('/stream', null, (data) => {
        const text = data.toString();
        if (text === 'ready') return resolve();
        onValue(conn, JSON.parse(text));
      });
    } else if (server === 'socketio') {
      const s = io(`http://127.0.0.1:${port}`, {
        transports: ['websocket'],
        parser,
        reconnection: false,
      });
      s.on('ticks', (batch) => {
        frames++;
        onValue(conn, batch);
      });
      s.on('disconnect', (reason) => {
        closed++;
        if (closeReasons.length < 200) closeReasons += `${reason}; `;
      });
      s.on('connect', () => {
        s.emit('subscribe', ['all'], () => resolve());
      });
    } else throw new Error(`unknown server ${server}`);
  });
}

// Connect in small parallel waves so 1,000 handshakes do not time out.
for (let i = 0; i < count; i += 50) {
  const wave = [];
  for (let j = i; j < Math.min(count, i + 50); j++) wave.push(connectOne());
  await Promise.all(wave);
}
process.send({ type: 'ready' });

process.on('message', (m) => {
  // Answered from this process's own event loop, with its own clock: a busy
  // subscriber process answers late but with a recent lastUs, so the driver
  // never mistakes a backlog being worked through for a stall. (A 200 ms
  // progress timer did: on a slow host its messages stopped for > 3 s while
  // updates kept arriving, and runs were reported as lost.)
  if (m.type === 'poll') {
    process.send({ type: 'progress', delivered, lastUs, nowUs: nowUs(), closed });
    return;
  }
  if (m.type === 'summary') {
    process.send(
      {
        type: 'summary',
        delivered,
        frames,
        bytes,
        reordered,
        duplicates,
        closed,
        closeReasons,
        firstUs,
        lastUs,
        latency: {
          p50: hist.getValueAtPercentile(50),
          p99: hist.getValueAtPercentile(99),
          p999: hist.getValueAtPercentile(99.9),
          max: hist.maxValue,
          count: hist.totalCount,
        },
        latencyFromSend: {
          p50: histSend.getValueAtPercentile(50),
          p99: histSend.getValueAtPercentile(99),
          p999: histSend.getValueAtPercentile(99.9),
          max: histSend.maxValue,
        },
      },
      () => process.exit(0),
    );
  }
});
