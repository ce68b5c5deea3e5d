/**
 * The tickwire live dashboard. Stats arrive once per second on
 * /stats/stream; the symbol board is fed by the client SDK's StreamClient on
 * /stream with "*". Updates only mark rows dirty; the DOM is touched at most
 * once per animation frame.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { State, StreamClient, type Update } from '../clients/ts/src/index.js';
import { ServerClock, ageMs, fmtAge } from './update-age.js';

/** Chart history: one point per second, 5 minutes. */
const HISTORY = 300;

interface StatsSnapshot {
  uptime_s: number;
  time: number;
  ticks: { received: number; published: number; rejected: number };
  frames: { received: number; bad: number };
  connections: { feeds: number; subscribers: number };
  slow_consumers_closed: number;
  symbols: number;
  latency_us: { p50: number; p95: number; p99: number; p999: number; samples: number };
  rates: { ticks_in: number; updates_out: number; frames_in: number };
  memory: { rss: number; heap_used: number; heap_total: number };
  admin_enabled: boolean;
}

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`missing #${id}`);
  return e as T;
}

function setText(id: string, text: string): void {
  const e = el(id);
  if (e.textContent !== text) e.textContent = text;
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fmtInt(n: number): string {
  return INT.format(n);
}

function fmtUs(n: number): string {
  return n >= 100 ? fmtInt(n) : n.toFixed(1);
}

function fmtBytes(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function fmtDuration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return (d > 0 ? `${d}d ` : '') + (h > 0 || d > 0 ? `${h}h ` : '') + `${m}m ${sec}s`;
}

function wsBase(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
}

// ---------------------------------------------------------------- charts

const times: number[] = [];
const tput: [number[], number[], number[]] = [[], [], []];
const lat: [number[], number[], number[], number[]] = [[], [], [], []];

function chartWidth(id: string): number {
  return Math.max(240, el(id).clientWidth);
}

const axisStyle = { stroke: '#9aa5b1', grid: { stroke: '#2a323c' }, ticks: { stroke: '#2a323c' } };

function makeThroughput(): uPlot {
  return new uPlot(
    {
      width: chartWidth('chart-throughput'),
      height: 220,
      series: [
        {},
        { label: 'ticks/s in', stroke: '#58a6ff', width: 1.5 },
        { label: 'updates/s out', stroke: '#3fb950', width: 1.5 },
        { label: 'frames/s', stroke: '#d2a8ff', width: 1.5 },
      ],
      axes: [axisStyle, { ...axisStyle, size: 60 }],
    },
    [times, ...tput],
    el('chart-throughput'),
  );
}

let latencyChart: uPlot | undefined;

function makeLatency(log: boolean): uPlot {
  return new uPlot(
    {
      width: chartWidth('chart-latency'),
      height: 220,
      series: [
        {},
        { label: 'p50', stroke: '#3fb950', width: 1.5 },
        { label: 'p95', stroke: '#58a6ff', width: 1.5 },
        { label: 'p99', stroke: '#f0c24b', width: 1.5 },
        { label: 'p99.9', stroke: '#f85149', width: 1.5 },
      ],
      scales: { y: log ? { distr: 3 } : {} },
      axes: [axisStyle, { ...axisStyle, size: 60 }],
    },
    [times, ...lat],
    el('chart-latency'),
  );
}

const throughputChart = makeThroughput();
latencyChart = makeLatency(false);

el<HTMLInputElement>('log-scale').addEventListener('change', (e) => {
  latencyChart?.destroy();
  latencyChart = makeLatency((e.target as HTMLInputElement).checked);
});

window.addEventListener('resize', () => {
  throughputChart.setSize({ width: chartWidth('chart-throughput'), height: 220 });
  latencyChart?.setSize({ width: chartWidth('chart-latency'), height: 220 });
});

function push<T>(arr: T[], v: T): void {
  arr.push(v);
  if (arr.length > HISTORY) arr.shift();
}

// ---------------------------------------------------------------- stats stream

/** The server's clock, read from each stats snapshot's `time` (for the board's ages). */
const serverClock = new ServerClock();

function onStats(s: StatsSnapshot): void {
  serverClock.observe(s.time, Date.now());
  setText('rate-ticks', fmtInt(s.rates.ticks_in));
  setText('rate-updates', fmtInt(s.rates.updates_out));
  setText('rate-frames', fmtInt(s.rates.frames_in));
  setText('lat-p50', fmtUs(s.latency_us.p50));
  setText('lat-p95', fmtUs(s.latency_us.p95));
  setText('lat-p99', fmtUs(s.latency_us.p99));
  setText('lat-p999', fmtUs(s.latency_us.p999));
  setText('feeds', fmtInt(s.connections.feeds));
  setText('subscribers', fmtInt(s.connections.subscribers));
  setText('symbols', fmtInt(s.symbols));
  setText('rejected', fmtInt(s.ticks.rejected));
  setText('bad-frames', fmtInt(s.frames.bad));
  setText('slow', fmtInt(s.slow_consumers_closed));
  setText('rss', fmtBytes(s.memory.rss));
  setText('heap', `${fmtBytes(s.memory.heap_used)} / ${fmtBytes(s.memory.heap_total)}`);
  setText('uptime', fmtDuration(s.uptime_s));
  if (!s.admin_enabled && el('lt-disabled').hidden) showDisabled();

  push(times, s.time / 1000);
  push(tput[0], s.rates.ticks_in);
  push(tput[1], s.rates.updates_out);
  push(tput[2], s.rates.frames_in);
  // Log scales cannot show 0: an empty window is drawn as a gap.
  const v = (x: number): number => (s.latency_us.samples > 0 && x > 0 ? x : NaN);
  push(lat[0], v(s.latency_us.p50));
  push(lat[1], v(s.latency_us.p95));
  push(lat[2], v(s.latency_us.p99));
  push(lat[3], v(s.latency_us.p999));
  throughputChart.setData([times, ...tput]);
  latencyChart?.setData([times, ...lat]);
}

function connectStats(delayMs = 250): void {
  const ws = new WebSocket(`${wsBase()}/stats/stream`);
  ws.onopen = () => {
    delayMs = 250;
  };
  ws.onmessage = (e: MessageEvent) => {
    if (typeof e.data === 'string') onStats(JSON.parse(e.data) as StatsSnapshot);
  };
  ws.onclose = () => {
    setTimeout(() => connectStats(Math.min(delayMs * 2, 10_000)), delayMs);
  };
}
connectStats();

// ---------------------------------------------------------------- symbol board

interface Row {
  readonly symbol: string;
  readonly tr: HTMLTableRowElement;
  readonly cells: HTMLTableCellElement[];
  first: number;
  last: number;
  bid: number | undefined;
  ask: number | undefined;
  n: number;
  /** The last update's `r`: the server's timestamp, µs (undefined: none had one). */
  r: number | undefined;
  /** Updates counted in the current second, and the rate of the last one. */
  count: number;
  rate: number;
  /** In (or near) the scrolled viewport of the board; off-screen rows are not redrawn. */
  onscreen: boolean;
  /** Changed while off-screen or filtered out: redraw when shown. */
  stale: boolean;
}

const rows = new Map<string, Row>();
const dirty = new Set<Row>();
const tbody = el<HTMLTableElement>('board').tBodies[0]!;
const filterInput = el<HTMLInputElement>('filter');
let filter = '';
let scheduled = false;
const sortedSymbols: string[] = [];
const rowByElement = new WeakMap<Element, Row>();
const observer = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      const row = rowByElement.get(e.target);
      if (row === undefined) continue;
      row.onscreen = e.isIntersecting;
      if (row.onscreen && row.stale) dirty.add(row);
    }
    schedule();
  },
  { root: document.querySelector('.table-wrap'), rootMargin: '200px 0px' },
);

function fmtPrice(p: number | undefined): string {
  return p === undefined ? '–' : p.toFixed(p >= 1 ? 2 : 4);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function dropRow(symbol: string): void {
  const row = rows.get(symbol);
  if (row === undefined) return;
  rows.delete(symbol);
  observer.unobserve(row.tr);
  row.tr.remove();
  const i = sortedSymbols.indexOf(symbol);
  if (i >= 0) sortedSymbols.splice(i, 1);
}

function rowFor(symbol: string, price: number): Row {
  let row = rows.get(symbol);
  if (row !== undefined) return row;
  const tr = document.createElement('tr');
  tr.dataset.symbol = symbol;
  const cells: HTMLTableCellElement[] = [];
  for (let i = 0; i < 8; i++) cells.push(tr.insertCell());
  cells[0]!.textContent = symbol;
  row = {
    symbol,
    tr,
    cells,
    first: price,
    last: price,
    bid: undefined,
    ask: undefined,
    n: 0,
    r: undefined,
    count: 0,
    rate: 0,
    onscreen: true,
    stale: true,
  };
  rows.set(symbol, row);
  rowByElement.set(tr, row);
  observer.observe(tr);
  // Keep the table sorted by symbol: new symbols are rare.
  let i = sortedSymbols.findIndex((s) => s > symbol);
  if (i < 0) i = sortedSymbols.length;
  sortedSymbols.splice(i, 0, symbol);
  const next = sortedSymbols[i + 1];
  tbody.insertBefore(tr, next === undefined ? null : rows.get(next)!.tr);
  tr.hidden = !matches(symbol);
  return row;
}

function apply(u: Update, counted: boolean): void {
  const p = num(u.p);
  if (p === undefined) return;
  const row = rowFor(u.s, p);
  row.last = p;
  row.bid = num(u.b) ?? row.bid;
  row.ask = num(u.a) ?? row.ask;
  row.n = u.n;
  row.r = num(u.r) ?? row.r;
  if (counted) row.count++;
  dirty.add(row);
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(render);
}

function render(): void {
  scheduled = false;
  // Ages are on the server's clock: time since each update's r.
  const now = serverClock.now(Date.now());
  for (const row of dirty) {
    if (row.tr.hidden || !row.onscreen) {
      row.stale = true;
      continue;
    }
    row.stale = false;
    const c = row.cells;
    const change = row.first === 0 ? 0 : ((row.last - row.first) / row.first) * 100;
    setCell(c[1]!, fmtPrice(row.last));
    setCell(c[2]!, `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`);
    const cls = change > 0 ? 'up' : change < 0 ? 'down' : '';
    if (c[2]!.className !== cls) c[2]!.className = cls;
    setCell(c[3]!, fmtPrice(row.bid));
    setCell(c[4]!, fmtPrice(row.ask));
    setCell(c[5]!, fmtInt(row.n));
    setCell(c[6]!, fmtInt(row.rate));
    setCell(c[7]!, row.r === undefined ? '–' : fmtAge(ageMs(row.r, now)));
  }
  dirty.clear();
}

function setCell(cell: HTMLTableCellElement, text: string): void {
  if (cell.textContent !== text) cell.textContent = text;
}

function matches(symbol: string): boolean {
  return filter === '' || symbol.toLowerCase().includes(filter);
}

filterInput.addEventListener('input', () => {
  filter = filterInput.value.trim().toLowerCase();
  for (const row of rows.values()) {
    const hide = !matches(row.symbol);
    if (row.tr.hidden !== hide) row.tr.hidden = hide;
    if (!hide) dirty.add(row);
  }
  schedule();
});

// Once per second: roll the per-symbol rates and refresh every visible age.
setInterval(() => {
  for (const row of rows.values()) {
    row.rate = row.count;
    row.count = 0;
    dirty.add(row);
  }
  setText('board-count', `${fmtInt(rows.size)} symbols`);
  schedule();
}, 1000);

const conn = el('conn');
const stream = new StreamClient({ url: wsBase(), WebSocket, symbols: ['*'] });
stream.on('snapshot', (ticks) => {
  for (const u of ticks) apply(u, false);
});
stream.on('update', (u) => apply(u, true));
// Another numbering (the server restarted without a journal): forget the old
// rows; the snapshot that follows brings back the symbols the server knows.
stream.on('reset', (r) => {
  if (r.reason === 'epoch') dropRow(r.symbol);
});
stream.on('state', (s) => {
  conn.dataset.state = s === State.Open ? 'open' : s === State.Closed ? 'closed' : 'connecting';
  conn.textContent = s === State.Open ? 'live' : s;
});
stream.on('error', (e) => {
  conn.title = `${e.code}: ${e.message}`;
});

// ---------------------------------------------------------------- load test

const ltForm = el<HTMLFormElement>('lt-form');
const ltStatus = el('lt-status');
const ltRun = el<HTMLButtonElement>('lt-run');

interface LoadTestStatus {
  id?: string;
  state: 'idle' | 'running' | 'done' | 'failed';
  error?: string;
  result?: {
    duration_s: number;
    ticks_per_s: number;
    deliveries_per_s: number;
    messages_received_per_s: number;
    latency_us: { p50: number; p99: number };
  };
}

function adminHeaders(): Record<string, string> {
  return { authorization: `Bearer ${el<HTMLInputElement>('lt-token').value}` };
}

function showDisabled(): void {
  el('lt-disabled').hidden = false;
  ltRun.disabled = true;
  ltStatus.textContent = 'admin disabled: start the server with --admin-token';
}

async function refusal(res: Response): Promise<string> {
  if (res.status === 503) {
    showDisabled();
    return 'admin disabled: start the server with --admin-token';
  }
  if (res.status === 401) return 'unauthorized: wrong or missing admin token';
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  return `refused (${res.status})${body.message === undefined ? '' : `: ${body.message}`}`;
}

function showResult(s: LoadTestStatus): void {
  const r = s.result;
  if (r === undefined) return;
  el('lt-result').hidden = false;
  setText('lt-ticks', fmtInt(r.ticks_per_s));
  setText('lt-deliveries', fmtInt(r.deliveries_per_s));
  setText('lt-received', fmtInt(r.messages_received_per_s));
  setText('lt-p50', fmtUs(r.latency_us.p50));
  setText('lt-p99', fmtUs(r.latency_us.p99));
  ltStatus.textContent = `done in ${r.duration_s.toFixed(1)} s (run ${s.id ?? ''})`;
}

async function poll(id: string): Promise<void> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch('/admin/loadtest', { headers: adminHeaders() });
    if (!res.ok) {
      ltStatus.textContent = await refusal(res);
      return;
    }
    const s = (await res.json()) as LoadTestStatus;
    if (s.id !== id || s.state === 'running') continue;
    if (s.state === 'failed') ltStatus.textContent = `failed: ${s.error ?? 'unknown error'}`;
    else showResult(s);
    return;
  }
}

ltForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const value = (id: string): number => Number(el<HTMLInputElement>(id).value);
  const body = {
    rate: value('lt-rate'),
    symbols: value('lt-symbols'),
    subscribers: value('lt-subscribers'),
    duration: value('lt-duration'),
  };
  ltRun.disabled = true;
  ltStatus.textContent = 'starting…';
  void (async () => {
    try {
      const res = await fetch('/admin/loadtest', {
        method: 'POST',
        headers: { ...adminHeaders(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 202) {
        ltStatus.textContent = await refusal(res);
        return;
      }
      const { id } = (await res.json()) as { id: string };
      ltStatus.textContent = `running for ${body.duration} s…`;
      await poll(id);
    } catch (err) {
      ltStatus.textContent = `failed: ${String(err)}`;
    } finally {
      if (el('lt-disabled').hidden) ltRun.disabled = false;
    }
  })();
});
