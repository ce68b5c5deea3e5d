/**
 * A typed view of the benchmark driver's pure parts (bench/suite/*.mjs) for
 * the tests: the capacity search, row statistics, the check's verdict, the
 * profile summary and the Markdown report.
 */
// @ts-expect-error -- plain ESM module of the benchmark, no type declarations
import * as method from '../../bench/suite/method.mjs';
// @ts-expect-error -- plain ESM module of the benchmark, no type declarations
import * as report from '../../bench/suite/report.mjs';
// @ts-expect-error -- plain ESM module of the benchmark, no type declarations
import * as check from '../../bench/suite/check.mjs';
// @ts-expect-error -- plain ESM module of the benchmark, no type declarations
import * as profile from '../../bench/suite/profile.mjs';

export interface Latency {
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/** The part of a loader report the driver reads. */
export interface LoaderReport {
  status: 'ok' | 'incomplete' | 'error';
  loader_bound: boolean;
  latency_us: Latency & { count?: number };
  deliveries_per_s?: number;
  server_cpu_ns_per_delivery?: number;
  loader_cpu_share?: number;
  delivered?: number;
  expected?: number;
  error?: string;
}

export interface Row {
  server: string;
  scenario: string;
  subscribers: number;
  symbols: number;
  ticks_per_frame: number;
  rate: number | null;
  capacity_rate?: number;
  deliveries_per_s: number;
  server_cpu_ns_per_delivery: number | null;
  loader_cpu_share: number | null;
  latency_us: Latency;
  delivered: number;
  expected: number;
  status: string;
  reps?: number;
  spread?: {
    deliveries_per_s: [number, number] | null;
    server_cpu_ns_per_delivery: [number, number] | null;
  };
}

export interface Cfg {
  subs: number;
  symbols: number;
  batch: number;
}

export interface SearchPlan {
  start: number;
  minRate: number;
  maxRate: number;
  probeS: number;
  warmS: number;
  tolerance: number;
}

export interface Found {
  rate: number;
  loaderLimited: boolean;
  probes: { rate: number; ok: boolean; status: string }[];
}

export const P99_LIMIT_US = (method as { P99_LIMIT_US: number }).P99_LIMIT_US;

export const { findCapacity, statusOf, sustains, toRow, combine, loaderOpts } = method as {
  findCapacity: (
    probe: (rate: number, seconds: number) => Promise<LoaderReport>,
    cfg: Cfg,
    plan: SearchPlan,
  ) => Promise<Found>;
  statusOf: (r: LoaderReport) => string;
  sustains: (r: LoaderReport) => boolean;
  toRow: (server: string, scenario: string, cfg: Cfg, r: LoaderReport, rate: number | null) => Row;
  combine: (rows: Row[]) => Row;
  loaderOpts: (
    cfg: Cfg,
    rate: number,
    o?: { latency?: boolean },
  ) => { readUs: number; sample: number };
};

export interface Doc {
  date: string;
  machine: string;
  node: string;
  pinning: string;
  plan: string;
  reps: number;
  wall_s: number;
  floor_us: { p50: number; p99: number; p999: number };
  floor_paced_us?: Record<string, { p50: number; p99: number; p999: number }>;
  rows: Row[];
}

export const { renderMarkdown, OLD_HARNESS_BEST } = report as {
  renderMarkdown: (doc: Doc) => string;
  OLD_HARNESS_BEST: number;
};

export const { verdict, TOLERANCE } = check as {
  verdict: (
    ratio: number,
    baseline: number,
    tolerance?: number,
  ) => { ok: boolean; limit: number; change: number };
  TOLERANCE: number;
};

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
}

export const { topSelf } = profile as {
  topSelf: (p: CpuProfile, n: number) => { name: string; share: number }[];
};

/** A loader report with every update delivered in order. */
export function okReport(over: Partial<LoaderReport> = {}): LoaderReport {
  return {
    status: 'ok',
    loader_bound: false,
    latency_us: { p50: 100, p99: 1000, p999: 2000, max: 3000, count: 1000 },
    deliveries_per_s: 1e6,
    server_cpu_ns_per_delivery: 120,
    loader_cpu_share: 0.4,
    delivered: 1000,
    expected: 1000,
    ...over,
  };
}
