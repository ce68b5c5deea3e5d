/**
 * Helpers for scripts/soak.mjs: flag parsing, reading the server's memory
 * from the outside (/proc and the V8 inspector), the growth statistics and
 * the plot (an SVG drawn here, turned into a PNG by headless Chromium).
 */
import { performance } from 'node:perf_hooks';
import { existsSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';

/** Parses `--key value` and `--key=value` pairs into an object of strings. */
export function parseFlags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) out[a.slice(2)] = 'true';
    else out[a.slice(2)] = argv[++i];
  }
  return out;
}

export const MiB = 1024 * 1024;

/** VmRSS of a process in MiB from /proc/PID/status (Linux), or NaN. */
export function procRssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * A minimal Chrome DevTools Protocol client for a Node process started with
 * `--inspect`. It never calls Runtime.enable (which would make the inspector
 * keep console messages and so grow the very heap we measure).
 */
export async function connectInspector(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    const p = msg.id !== undefined && pending.get(msg.id);
    if (!p) return; // events: none are enabled
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else p.resolve(msg.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async (expression) => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  return {
    send,
    evaluate,
    /** Full, forced GC in the server, then its process.memoryUsage() in bytes and the GC time. */
    async memoryAfterGc() {
      const t0 = performance.now();
      await send('HeapProfiler.collectGarbage');
      const gcMs = performance.now() - t0;
      const mem = JSON.parse(await evaluate('JSON.stringify(process.memoryUsage())'));
      return { ...mem, gcMs };
    },
    close: () => ws.close(),
  };
}

/** Least-squares line y = a + b·x; returns {slope, intercept}. */
export function linearFit(xs, ys) {
  const n = xs.length;
  if (n < 2) return { slope: NaN, intercept: NaN };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx };
}

export const mean = (a) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN);

/**
 * Growth test for one sample series over the post-warm-up window: least-squares
 * slope (MiB per 10 min) and the rise from the first-quarter mean to the
 * last-quarter mean. "Growing" needs both: slope above `thresholdPer10` AND a
 * rise above the margin, which is half the rise a leak at exactly the
 * threshold slope would cause between the two quarters (their centres are 3/4
 * of the window apart), at least 0.25 MiB. A slope alone can come from a
 * one-off step or a wave; a rise alone from noise at the ends.
 */
export function growth(samples, key, thresholdPer10, warmupS) {
  const w = samples.filter((s) => s.t >= warmupS && Number.isFinite(s[key]));
  const xs = w.map((s) => s.t / 60);
  const ys = w.map((s) => s[key]);
  const fit = linearFit(xs, ys);
  const q = Math.max(1, Math.floor(w.length / 4));
  const firstQ = mean(ys.slice(0, q));
  const lastQ = mean(ys.slice(-q));
  const windowMin = xs.length ? xs[xs.length - 1] - xs[0] : 0;
  const margin = Math.max(0.25, 0.5 * (thresholdPer10 / 10) * 0.75 * windowMin);
  const slopePer10 = fit.slope * 10;
  const r = (v) => +v.toFixed(3);
  return {
    slopeMiBPer10min: r(slopePer10),
    thresholdMiBPer10min: thresholdPer10,
    start: r(ys[0]),
    end: r(ys[ys.length - 1]),
    min: r(Math.min(...ys)),
    max: r(Math.max(...ys)),
    firstQuarterMean: r(firstQ),
    lastQuarterMean: r(lastQ),
    quarterRise: r(lastQ - firstQ),
    quarterMarginMiB: r(margin),
    growing: slopePer10 > thresholdPer10 && lastQ - firstQ > margin,
    fit,
  };
}

// ---------------------------------------------------------------- plotting

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "Nice" tick step for a range (1, 2 or 5 times a power of ten). */
function niceStep(range, count) {
  const raw = range / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/**
 * One panel of line series against minutes. `series`: [{name, color, values,
 * dash?, axis?: 'right'}]; `xs` minutes; `warmup` minutes (shaded);
 * `fits`: [{color, slope, intercept}] drawn dashed over the post-warm-up part.
 */
function panel(o) {
  const { x, y, w, h, title, xs, series, warmup, xMax, yLabel, rightLabel, fits = [] } = o;
  const out = [];
  const axisRange = (list) => {
    const vals = list.flatMap((s) => s.values).filter(Number.isFinite);
    let lo = o.fromZero === false ? Math.min(...vals) : Math.min(0, ...vals);
    let hi = Math.max(...vals, 1e-9);
    const step = niceStep(hi - lo, 5);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil((hi * 1.05) / step) * step;
    return { lo, hi, step };
  };
  const left = series.filter((s) => s.axis !== 'right');
  const right = series.filter((s) => s.axis === 'right');
  const L = axisRange(left);
  const R = right.length ? axisRange(right) : undefined;
  const px = (m) => x + (m / xMax) * w;
  const py = (v, ax) => y + h - ((v - ax.lo) / (ax.hi - ax.lo)) * h;
  out.push(`<text x="${x}" y="${y - 10}" class="t">${esc(title)}</text>`);
  out.push(`<rect x="${x}" y="${y}" width="${px(warmup) - x}" height="${h}" fill="#eee"/>`);
  out.push(
    `<text x="${x + 4}" y="${y + 14}" class="s" fill="#888">warm-up (excluded from the verdict)</text>`,
  );
  for (let v = L.lo; v <= L.hi + 1e-9; v += L.step) {
    const yy = py(v, L);
    out.push(`<line x1="${x}" x2="${x + w}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(
      `<text x="${x - 6}" y="${yy + 4}" class="s" text-anchor="end">${+v.toFixed(2)}</text>`,
    );
  }
  if (R) {
    for (let v = R.lo; v <= R.hi + 1e-9; v += R.step) {
      const label = v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : +v.toFixed(1);
      out.push(`<text x="${x + w + 6}" y="${py(v, R) + 4}" class="s">${label}</text>`);
    }
  }
  const xStep = niceStep(xMax, 10);
  for (let m = 0; m <= xMax + 1e-9; m += xStep) {
    out.push(`<line x1="${px(m)}" x2="${px(m)}" y1="${y + h}" y2="${y + h + 4}" stroke="#444"/>`);
    out.push(
      `<text x="${px(m)}" y="${y + h + 16}" class="s" text-anchor="middle">${+m.toFixed(2)}</text>`,
    );
  }
  out.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#444"/>`);
  out.push(
    `<text transform="translate(${x - 48},${y + h / 2}) rotate(-90)" class="s" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  if (rightLabel) {
    out.push(
      `<text transform="translate(${x + w + 52},${y + h / 2}) rotate(90)" class="s" text-anchor="middle">${esc(rightLabel)}</text>`,
    );
  }
  for (const s of series) {
    const ax = s.axis === 'right' ? R : L;
    const pts = [];
    s.values.forEach((v, i) => {
      if (Number.isFinite(v)) pts.push(`${px(xs[i]).toFixed(1)},${py(v, ax).toFixed(1)}`);
    });
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.3"${dash}/>`,
    );
  }
  for (const f of fits) {
    if (!Number.isFinite(f.slope)) continue;
    const y0 = f.intercept + f.slope * warmup;
    const y1 = f.intercept + f.slope * xMax;
    out.push(
      `<line x1="${px(warmup)}" y1="${py(y0, L)}" x2="${px(xMax)}" y2="${py(y1, L)}" stroke="${f.color}" stroke-width="2" stroke-dasharray="6 4"/>`,
    );
  }
  // Legend along the top edge.
  let lx = x + w;
  for (const s of [...series].reverse()) {
    const label = s.name + (s.axis === 'right' ? ' (right axis)' : '');
    lx -= label.length * 6.4 + 30;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${y - 14}" y2="${y - 14}" stroke="${s.color}" stroke-width="3"/>`,
    );
    out.push(`<text x="${lx + 22}" y="${y - 10}" class="s">${esc(label)}</text>`);
  }
  return out.join('\n');
}

/** The whole figure: RSS, heap/external/arrayBuffers, connections and tick rate. */
export function renderSvg({ samples, warmupS, fits, title, subtitle, verdictLines }) {
  const W = 1100;
  const H = 980;
  const xs = samples.map((s) => s.t / 60);
  const xMax = Math.max(xs[xs.length - 1] ?? 1, 0.1);
  const warmup = warmupS / 60;
  const v = (k) => samples.map((s) => s[k]);
  const common = { x: 80, w: W - 160, xs, xMax, warmup };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    '<style>text{font-family:sans-serif;fill:#222}.t{font-size:15px;font-weight:bold}.s{font-size:12px}</style>',
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" style="font-size:18px;font-weight:bold">${esc(title)}</text>`,
    `<text x="${W / 2}" y="46" text-anchor="middle" class="s">${esc(subtitle)}</text>`,
    ...verdictLines.map(
      (l, i) =>
        `<text x="${W / 2}" y="${66 + i * 16}" text-anchor="middle" class="s" style="font-weight:bold">${esc(l)}</text>`,
    ),
    panel({
      ...common,
      y: 120,
      h: 220,
      fromZero: false,
      title: 'Server RSS (MiB, /proc VmRSS after a forced GC; axis not from zero)',
      yLabel: 'MiB',
      series: [{ name: 'RSS', color: '#d62728', values: v('rssMiB') }],
      fits: [{ color: '#7f1d1d', ...fits.rss }],
    }),
    panel({
      ...common,
      y: 400,
      h: 260,
      title: 'Server V8 memory after a forced GC (MiB)',
      yLabel: 'MiB',
      series: [
        { name: 'heap used', color: '#1f77b4', values: v('heapUsedMiB') },
        { name: 'external', color: '#2ca02c', values: v('externalMiB') },
        { name: 'arrayBuffers', color: '#9467bd', values: v('arrayBuffersMiB'), dash: '3 2' },
      ],
      fits: [
        { color: '#0b3d66', ...fits.heapUsed },
        { color: '#14532d', ...fits.external },
      ],
    }),
    panel({
      ...common,
      y: 720,
      h: 200,
      title: 'Load: open connections and ticks published per second',
      yLabel: 'connections',
      rightLabel: 'ticks/s',
      series: [
        { name: 'subscribers', color: '#ff7f0e', values: v('subscribers') },
        { name: 'feeds', color: '#8c564b', values: v('feeds') },
        { name: 'ticks/s', color: '#17becf', values: v('tickRate'), axis: 'right' },
      ],
    }),
    `<text x="${W / 2}" y="${H - 18}" text-anchor="middle" class="s">minutes since start (dashed: least-squares fit over the post-warm-up window)</text>`,
    '</svg>',
  ];
  return parts.join('\n');
}

/** SVG → PNG with headless Chromium via playwright-core; false if no browser. */
export async function svgToPng(svg, pngPath, executablePath = '/usr/bin/chromium') {
  if (!existsSync(executablePath)) return false;
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return false;
  }
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const m = /width="(\d+)" height="(\d+)"/.exec(svg);
    const page = await browser.newPage({ viewport: { width: +m[1], height: +m[2] } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: pngPath, clip: { x: 0, y: 0, width: +m[1], height: +m[2] } });
  } finally {
    await browser.close();
  }
  return true;
}
