/**
 * Feed process. Two modes:
 * - `--mode rate --rate R`: open loop on a fixed schedule. A 1 ms timer wakes
 *   up, sends every tick that is due by now (batched into frames of up to 100)
 *   and stamps each tick with its intended send time `ts` (µs), never waiting
 *   for replies, so a stalled server shows up as latency, not as fewer sends.
 * - `--mode max`: batches of 100 as fast as the connection accepts them
 *   (waits only while the socket's send buffer is over 1 MiB), until the
 *   duration or the tick budget is reached.
 * Reports {type:'done', sent, startUs, endUs} over IPC.
 */
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import parser from 'socket.io-msgpack-parser';
import { setImmediate as immediate } from 'node:timers/promises';
import { makeTick, nowUs, packr, parseFlags, symbolName } from './lib.mjs';

const flags = parseFlags(process.argv.slice(2));
const server = flags.server;
const port = Number(flags.port);
const symbols = Number(flags.symbols);
const durationUs = Number(flags.duration) * 1e6;
const budget = Number(flags.budget ?? Infinity);
const rate = Number(flags.rate ?? 0);
const BATCH = 100;

const names = Array.from({ length: symbols }, (_, i) => symbolName(i));
const seq = new Uint32Array(symbols);
let symCursor = 0;
let sent = 0;

function nextTick(ts, sa) {
  const i = symCursor;
  symCursor = symCursor + 1 === symbols ? 0 : symCursor + 1;
  seq[i]++;
  sent++;
  return makeTick(names[i], seq[i], ts, sa);
}

/** Returns {send(batch), buffered()} for the server's feed protocol. */
async function connect() {
  if (server === 'socketio') {
    const s = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      parser,
      reconnection: false,
    });
    await new Promise((r) => s.on('connect', r));
    return {
      send: (batch) => s.emit('ticks', batch),
      buffered: () => {
        const engine = s.io.engine;
        return (engine.transport?.ws?.bufferedAmount ?? 0) + engine.writeBuffer.length * 4096;
      },
      close: () => s.close(),
      // Socket.IO queues emits in its own write buffer: ask the server to ack a
      // marker, which it handles after every earlier batch.
      flush: () => new Promise((r) => s.emit('flush', r)),
    };
  }
  const path = server === 'tickwire' ? `/feed?token=${flags.token}` : '/feed';
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  await new Promise((r, j) => {
    ws.on('open', r);
    ws.on('error', j);
  });
  ws.on('message', (data) => {
    // tickwire answers only on errors (no ?ack): surface them.
    console.error(`feed got: ${data.length} bytes`);
  });
  const json = server === 'ws-json';
  return {
    send: (batch) =>
      json ? ws.send(JSON.stringify(batch)) : ws.send(packr.pack(batch), { binary: true }),
    buffered: () => ws.bufferedAmount,
    close: () => ws.close(),
  };
}

const conn = await connect();
const startUs = nowUs();

if (flags.mode === 'rate') {
  const intervalUs = 1e6 / rate;
  const total = Math.floor((durationUs / 1e6) * rate);
  await new Promise((resolve) => {
    const wake = () => {
      const now = nowUs();
      const due = Math.min(total, Math.floor((now - startUs) / intervalUs) + 1);
      while (sent < due) {
        const batch = [];
        const sa = nowUs();
        while (sent < due && batch.length < BATCH)
          batch.push(nextTick(Math.round(startUs + sent * intervalUs), sa));
        conn.send(batch);
      }
      if (sent >= total) resolve();
      else setTimeout(wake, 1);
    };
    wake();
  });
} else {
  const endAt = startUs + durationUs;
  for (;;) {
    const now = nowUs();
    if (now >= endAt || sent + BATCH > budget) break;
    for (let f = 0; f < 8 && sent + BATCH <= budget; f++) {
      const ts = nowUs();
      const batch = [];
      for (let k = 0; k < BATCH; k++) batch.push(nextTick(ts, ts));
      conn.send(batch);
    }
    while (conn.buffered() > 1024 * 1024) await immediate();
    await immediate();
  }
}
const endUs = nowUs();
// Let the socket flush before reporting.
while (conn.buffered() > 0) await immediate();
if (conn.flush) await conn.flush();
process.send({ type: 'done', sent, startUs, endUs }, () => {
  setTimeout(() => {
    conn.close();
    process.exit(0);
  }, 200);
});
