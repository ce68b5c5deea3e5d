/**
 * Open-file (descriptor) limit against the connection limits, checked once
 * at start (main.ts).
 *
 * Every connection is a descriptor. When the process runs out, accept()
 * fails with EMFILE; uSockets leaves the connection in the listen queue and
 * epoll reports the listen socket readable again at once, so the loop spins
 * at 100% CPU and nothing new (not even /healthz) is accepted until some
 * socket closes. So the WebSocket limits must fit under the descriptor limit:
 *
 * 1. The soft limit is raised to the hard one where it is lower. Node itself
 *    does this at start on POSIX systems, so this step is a fallback: Node
 *    has no setrlimit, so it runs `prlimit` (util-linux) on its own pid, and
 *    carries on without it when that fails.
 * 2. If --max-connections (0: unlimited) does not fit under the soft limit
 *    less FD_RESERVE (listen sockets, NATS, files, stdio, event loop, HTTP
 *    requests), the effective limit is lowered to fit, and the per-address
 *    limit with it if it was above, and one line on stderr says so.
 *
 * Linux only (/proc/self/limits); elsewhere one line says it was skipped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';

/** Descriptors kept for everything that is not a WebSocket (see above). */
export const FD_RESERVE = 64;

/** A process's RLIMIT_NOFILE; Infinity for "unlimited". */
export interface DescriptorLimits {
  readonly soft: number;
  readonly hard: number;
}

/** What `fitToDescriptors` decided. */
export interface DescriptorFit {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** The soft limit in force afterwards (undefined: not known on this platform). */
  readonly soft: number | undefined;
  /** One line for stderr, or undefined when there is nothing to say. */
  readonly message: string | undefined;
}

/** The "Max open files" line of a /proc/PID/limits text; undefined if absent or unreadable. */
export function parseDescriptorLimits(text: string): DescriptorLimits | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (m === null) return undefined;
  const value = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/** This process's limits from /proc/self/limits; undefined where there is no such file. */
export function readDescriptorLimits(): DescriptorLimits | undefined {
  try {
    return parseDescriptorLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Sets this process's soft limit to `to` (at most the hard limit) with
 * util-linux `prlimit`; false when that is missing or refused.
 */
export function raiseSoftLimit(to: number, hard: number): boolean {
  const fmt = (n: number): string => (n === Infinity ? 'unlimited' : String(n));
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${fmt(to)}:${fmt(hard)}`], {
      stdio: 'ignore',
      timeout: 5000,
    });
    return true;
  } catch {
    return false;
  }
}

/** How the limits are read and raised; replaced in unit tests. */
export interface DescriptorOps {
  read(): DescriptorLimits | undefined;
  raise(to: number, hard: number): boolean;
}

const SYSTEM: DescriptorOps = { read: readDescriptorLimits, raise: raiseSoftLimit };

type Limits = Pick<Config, 'maxConnections' | 'maxConnectionsPerIp'>;

/**
 * Fits the connection limits under the descriptor limit (see the file
 * comment). `reserve`: descriptors kept for the rest (FD_RESERVE, plus one
 * per forked worker in the first process).
 */
export function fitToDescriptors(
  config: Limits,
  reserve: number = FD_RESERVE,
  ops: DescriptorOps = SYSTEM,
): DescriptorFit {
  const { maxConnections, maxConnectionsPerIp } = config;
  let limits = ops.read();
  if (limits === undefined) {
    return {
      maxConnections,
      maxConnectionsPerIp,
      soft: undefined,
      message: 'open-file limit not checked (no /proc/self/limits on this system)',
    };
  }
  let raised = '';
  if (limits.soft < limits.hard) {
    const before = limits.soft;
    if (ops.raise(limits.hard, limits.hard)) limits = ops.read() ?? limits;
    if (limits.soft > before) raised = `soft limit raised from ${before} to ${limits.soft}`;
  }
  const fits = Math.max(1, limits.soft - reserve);
  if (limits.soft === Infinity || (maxConnections !== 0 && maxConnections <= fits)) {
    return {
      maxConnections,
      maxConnectionsPerIp,
      soft: limits.soft,
      message: raised === '' ? undefined : `open-file limit: ${raised}`,
    };
  }
  const perIp = maxConnectionsPerIp > fits ? fits : maxConnectionsPerIp;
  const from = maxConnections === 0 ? 'unlimited' : String(maxConnections);
  const lowered =
    `--max-connections lowered from ${from} to ${fits}` +
    (perIp === maxConnectionsPerIp
      ? ''
      : ` and --max-connections-per-ip from ${maxConnectionsPerIp} to ${fits}`);
  return {
    maxConnections: fits,
    maxConnectionsPerIp: perIp,
    soft: limits.soft,
    message:
      `open-file limit ${limits.soft} (hard ${limits.hard === Infinity ? 'unlimited' : limits.hard}` +
      `${raised === '' ? '' : `; ${raised}`}) leaves room for ${fits} connections ` +
      `(${reserve} descriptors kept for the rest): ${lowered}; raise the limit ` +
      `(ulimit -n, systemd LimitNOFILE=, docker --ulimit nofile=) to allow more`,
  };
}
