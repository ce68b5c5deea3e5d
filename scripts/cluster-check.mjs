#!/usr/bin/env node
/**
 * Checks a tickwire deployment through its load balancer: opens N
 * subscribers on one symbol (the balancer spreads them over the nodes),
 * publishes COUNT ticks through one feed with acks, and verifies that every
 * subscriber got every update with the same gap-free `n`.
 *
 *   node scripts/cluster-check.mjs --url ws://127.0.0.1:8080 --token TOKEN [--count 800] [--subs 6]
 *
 * Exit code 0 when every subscriber got everything in order, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080' },
    token: { type: 'string' },
    count: { type: 'string', default: '800' },
    subs: { type: 'string', default: '6' },
    symbol: { type: 'string', default: 'CL.A' },
  },
});
const count = Number(values.count);
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
const open = (ws) =>
  new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));

const subs = [];
for (let i = 0; i < Number(values.subs); i++) {
  const ws = new WebSocket(`${values.url}/stream?symbols=${values.symbol}`);
  const got = [];
  ws.on('message', (d) => {
    const m = unpackr.unpack(d);
    for (const u of Array.isArray(m) ? m : [m]) if (u.s === values.symbol) got.push(u.n);
  });
  await open(ws);
  subs.push({ ws, got });
}
const feed = new WebSocket(`${values.url}/feed?ack=1`, {
  headers: { authorization: `Bearer ${values.token}` },
});
await open(feed);
let acked = 0;
feed.on('message', (d) => {
  const m = unpackr.unpack(d);
  if (m.op === 'ack') acked += m.accepted;
});
const t0 = Date.now();
for (let i = 0; i < count; i++) {
  feed.send(packr.pack({ s: values.symbol, p: i }));
  await new Promise((r) => setTimeout(r, 5));
}
while (acked < count && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
const ackedAt = Date.now();
while (subs.some((s) => s.got.length < count) && Date.now() - ackedAt < 30_000)
  await new Promise((r) => setTimeout(r, 20));
const contiguous = subs.every((s) => s.got.every((n, i) => i === 0 || n === s.got[i - 1] + 1));
const sameLast = new Set(subs.map((s) => s.got.at(-1))).size === 1;
const ok = acked === count && contiguous && sameLast && subs.every((s) => s.got.length === count);
console.log(
  JSON.stringify({
    acked,
    per_subscriber: subs.map((s) => s.got.length),
    gap_free: contiguous,
    same_last_n: sameLast,
    last_delivery_after_last_ack_ms: Date.now() - ackedAt,
    ok,
  }),
);
process.exit(ok ? 0 : 1);
