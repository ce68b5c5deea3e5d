/**
 * The load of scripts/soak.mjs, all in this process:
 * - one steady feed, open loop on a fixed schedule (`rate` ticks/s over the
 *   symbols, frames of up to 100 ticks, every 10 ms), reconnected if it drops;
 * - `subscribers` steady subscribers (one in five on '*', the others on 5
 *   named symbols; odd ones JSON, even ones MessagePack). Each decodes every
 *   update and checks the per-symbol sequence `n` for gaps;
 * - every second `churn` short-lived subscribers of five kinds, in turn:
 *   `close` (polite close after 1–10 s), `abrupt` (TCP drop after 1–10 s),
 *   `vanish` (subscribes in the URL, drops the socket as soon as it opens),
 *   `never-read` (stops reading: the server has to queue, then it drops) and
 *   `ops` (subscribe/ping/unsubscribe messages, then a polite close). They
 *   decode nothing;
 * - every `feedChurnEvery` seconds a short-lived extra feed (~200 ticks/s for
 *   2–8 s, one invalid tick first, every third one with ?ack=1), which ends
 *   politely or abruptly in turn.
 * All churn stays within the same symbol set, so nothing should legitimately grow.
 */
import { performance } from 'node:perf_hooks';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
const rnd = (lo, hi) => lo + Math.random() * (hi - lo);
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const KINDS = ['close', 'abrupt', 'vanish', 'never-read', 'ops'];

/** Starts the load against `base` (host:port); returns counters, steady subscribers and stop(). */
export async function startLoad({ base, feedToken, P, log }) {
  const names = Array.from({ length: P.symbols }, (_, i) => `SOAK${i}`);
  let stopping = false;
  const counts = {
    ticksSent: 0,
    steadyFeedReconnects: 0,
    feedsChurned: 0,
    feedReplies: 0,
    churnOpened: 0,
    churnClosed: 0,
    churnErrors: 0,
    churnByKind: {},
    closeCodes: {},
  };

  /** Opens a feed; resolves to the ws once open. */
  function openFeed(query = '') {
    const ws = new WebSocket(`ws://${base}/feed${query}`, {
      headers: { Authorization: `Bearer ${feedToken}` },
      perMessageDeflate: false,
    });
    ws.on('message', () => counts.feedReplies++);
    ws.on('error', () => {});
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }
  let price = 0;
  const tick = (s) => ({
    s,
    p: 100 + (price++ % 997) / 100,
    q: 1 + (price % 50),
    t: Date.now() * 1000,
  });

  // The steady feed: every tick due by now is sent, in frames of ≤ 100.
  let steadyFeed;
  const connectSteadyFeed = async () => {
    steadyFeed = await openFeed();
    steadyFeed.on('close', () => {
      if (stopping) return;
      counts.steadyFeedReconnects++;
      log('steady feed closed unexpectedly: reconnecting');
      void connectSteadyFeed();
    });
  };
  await connectSteadyFeed();
  const feedStart = performance.now();
  let cursor = 0;
  const feedTimer = setInterval(() => {
    const due = Math.floor(((performance.now() - feedStart) / 1000) * P.rate);
    while (counts.ticksSent < due && steadyFeed.readyState === WebSocket.OPEN) {
      const batch = [];
      while (counts.ticksSent < due && batch.length < 100) {
        batch.push(tick(names[cursor]));
        cursor = (cursor + 1) % P.symbols;
        counts.ticksSent++;
      }
      steadyFeed.send(packr.pack(batch), { binary: true });
    }
  }, 10);

  async function churnFeed() {
    const k = counts.feedsChurned++;
    const ws = await openFeed(k % 3 === 0 ? '?ack=1' : '').catch(() => undefined);
    if (!ws) return void counts.churnErrors++;
    ws.send(packr.pack([tick(pick(names)), { s: pick(names) }]), { binary: true }); // 2nd: no p
    const timer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(packr.pack(Array.from({ length: 20 }, () => tick(pick(names)))), { binary: true });
    }, 100);
    setTimeout(
      () => {
        clearInterval(timer);
        if (k % 2) ws.terminate();
        else ws.close(1000);
      },
      rnd(2000, 8000),
    );
  }

  /** Decodes one subscriber frame into a list of control messages and updates. */
  function decode(data, isBinary) {
    const v = isBinary ? unpackr.unpack(data) : JSON.parse(data.toString());
    return Array.isArray(v) ? v : [v];
  }

  const steady = [];
  function openSteady(i) {
    const star = i % 5 === 0;
    const symbols = star ? ['*'] : [0, 1, 2, 3, 4].map((k) => names[(i * 7 + k * 37) % P.symbols]);
    const format = i % 2 ? 'json' : 'msgpack';
    const sub = steady[i] ?? {
      i,
      star,
      format,
      delivered: 0,
      gaps: 0,
      stale: 0,
      last: 0,
      reconnects: 0,
    };
    sub.expectedPerS = star ? P.rate : (P.rate * symbols.length) / P.symbols;
    steady[i] = sub;
    const lastN = new Map();
    const ws = new WebSocket(`ws://${base}/stream?symbols=${symbols.join(',')}&format=${format}`, {
      perMessageDeflate: false,
    });
    ws.on('message', (data, isBinary) => {
      for (const m of decode(data, isBinary)) {
        if (m.op === 'snapshot') for (const u of m.ticks) lastN.set(u.s, u.n);
        else if (m.op === 'error') log(`steady subscriber ${i} got error ${JSON.stringify(m)}`);
        else if (m.op === undefined) {
          const prev = lastN.get(m.s);
          if (prev !== undefined && m.n <= prev) {
            sub.stale++; // not newer than the snapshot: dropped, as the protocol says
            continue;
          }
          if (prev !== undefined && m.n > prev + 1) sub.gaps += m.n - prev - 1;
          lastN.set(m.s, m.n);
          sub.delivered++;
        }
      }
    });
    ws.on('error', () => {});
    ws.on('close', (code, reason) => {
      if (stopping) return;
      sub.reconnects++;
      log(`steady subscriber ${i} closed (${code} ${reason}): reconnecting`);
      setTimeout(() => openSteady(i), 100);
    });
    sub.ws = ws;
  }
  for (let i = 0; i < P.subscribers; i++) openSteady(i);

  const live = new Set();
  function churnSubscriber(kind) {
    counts.churnOpened++;
    counts.churnByKind[kind] = (counts.churnByKind[kind] ?? 0) + 1;
    const symbols = Math.random() < 0.3 ? ['*'] : [0, 1, 2].map(() => pick(names));
    const format = Math.random() < 0.5 ? 'json' : 'msgpack';
    const q = kind === 'ops' ? '' : `symbols=${symbols.join(',')}&`;
    const ws = new WebSocket(`ws://${base}/stream?${q}format=${format}`, {
      perMessageDeflate: false,
    });
    live.add(ws);
    const life = rnd(1000, 10000);
    let timer;
    ws.on('error', () => counts.churnErrors++);
    ws.on('close', (code) => {
      clearTimeout(timer);
      live.delete(ws);
      counts.churnClosed++;
      counts.closeCodes[code] = (counts.closeCodes[code] ?? 0) + 1;
    });
    ws.on('open', () => {
      if (kind === 'vanish') return void ws.terminate(); // subscribed, gone before reading
      if (kind === 'never-read') ws._socket.pause(); // TCP window fills, the server queues
      if (kind === 'ops') {
        const send = (m) => ws.send(format === 'json' ? JSON.stringify(m) : packr.pack(m));
        send({ op: 'subscribe', symbols });
        send({ op: 'ping', id: counts.churnOpened });
        setTimeout(
          () => ws.readyState === WebSocket.OPEN && send({ op: 'unsubscribe', symbols }),
          life / 2,
        );
      }
      const polite = kind === 'close' || kind === 'ops';
      timer = setTimeout(() => (polite ? ws.close(1000) : ws.terminate()), life);
    });
  }
  let second = 0;
  const churnTimer = setInterval(() => {
    second++;
    for (let k = 0; k < P.churn; k++) churnSubscriber(KINDS[(second * P.churn + k) % KINDS.length]);
    if (P.feedChurnEvery > 0 && second % P.feedChurnEvery === 0) void churnFeed();
  }, 1000);

  return {
    counts,
    steady,
    delivered: () => steady.reduce((s, x) => s + x.delivered, 0),
    stop() {
      stopping = true;
      clearInterval(feedTimer);
      clearInterval(churnTimer);
      for (const ws of live) ws.terminate();
      for (const s of steady) s.ws.close(1000);
      steadyFeed.close(1000);
    },
  };
}
