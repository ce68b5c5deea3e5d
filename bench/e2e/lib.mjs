/**
 * Shared helpers for the end-to-end benchmark processes: a monotonic µs
 * clock that is comparable across processes (CLOCK_MONOTONIC), msgpack
 * codecs without records, and /proc readers for server CPU and peak RSS.
 */
import { readFileSync } from 'node:fs';
import { Packr, Unpackr } from 'msgpackr';

/** Microseconds on CLOCK_MONOTONIC: the same clock in every process. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

export const packr = new Packr({ useRecords: false });
export const unpackr = new Unpackr({ useRecords: false });

/** utime + stime of a process in seconds (Linux /proc), or NaN. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Peak resident set (VmHWM) of a process in MB, or NaN. */
export function peakRssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Parses `--key value` and `--key=value` pairs into an object of strings. */
export function parseFlags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
      else {
        out[a.slice(2)] = next;
        i++;
      }
    }
  }
  return out;
}

export function symbolName(i) {
  return `S${i}`;
}

/**
 * One tick: symbol, price, size, intended send time `ts` (µs), actual send
 * time `sa` (µs, when the frame was handed to the socket) and the feed's
 * per-symbol sequence `k`.
 */
export function makeTick(sym, k, ts, sa) {
  return { s: sym, p: 100 + (k % 997) / 100, q: 1 + (k % 50), ts, sa, k };
}
