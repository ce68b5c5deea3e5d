/** Shared helpers of the CLI tools (Node only). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { State } from '../connection.js';
import type { TickwireClientError } from '../errors.js';

/** Exit codes: 2 for bad arguments, 1 for connection and runtime failures. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

export class UsageError extends Error {}

/** Prints `NAME: reason` as one line on stderr and exits. */
export function die(name: string, reason: string, code: number): never {
  process.stderr.write(`${name}: ${reason.replace(/\s+/g, ' ').trim()}\n`);
  process.exit(code);
}

export function parse<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  allowPositionals: boolean,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** A number option: integer or decimal within [min, max]. */
export function numberOption(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`,
    );
  }
  if (n < min || n > max) {
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  }
  return n;
}

/** Checks a ws:// or wss:// URL. */
export function urlOption(value: string | undefined): string {
  if (value === undefined)
    throw new UsageError('--url is required (e.g. --url ws://localhost:8080)');
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`--url is not a valid URL: "${value}"`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new UsageError(`--url must start with ws:// or wss://, got "${value}"`);
  }
  return u.href;
}

interface Connectable {
  readonly state: State;
  on(event: 'state', listener: (s: State) => void): () => void;
  on(event: 'error', listener: (e: TickwireClientError) => void): () => void;
}

/** Resolves when the client is open; rejects with the error that closed it first. */
export function waitOpen(client: Connectable): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: TickwireClientError | undefined;
    const offError = client.on('error', (e) => {
      lastError = e;
      if (client.state === 'closed') done(e);
    });
    const offState = client.on('state', (s) => {
      if (s === 'open') done(undefined);
      else if (s === 'closed') queueMicrotask(() => done(lastError ?? new Error('closed')));
    });
    let settled = false;
    function done(err: Error | undefined): void {
      if (settled) return;
      settled = true;
      offError();
      offState();
      if (err === undefined) resolve();
      else reject(err);
    }
  });
}

/** Microseconds since the Unix epoch. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
