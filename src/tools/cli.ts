/**
 * Shared by the command-line tools (tickwire-replay, tickwire-record): their
 * error type, argument parsing with precise messages, option checkers, and
 * the runner that turns an outcome into an exit status.
 *
 * Exit status: 0 on success, 2 for bad arguments, 1 for anything else (a
 * journal error, a refused upgrade, a close from the server). An error is
 * printed as one line, `NAME: message [code]`, so scripts can match the code.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error of a tool, with a stable `code` (journal errors keep their own journal_* code). */
export class ToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ToolError';
  }
}

/** Bad arguments: exit status 2. */
export class UsageError extends ToolError {
  constructor(message: string) {
    super('usage', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses flags strictly: an unknown flag, a missing value or a positional is a UsageError. */
export function parseFlags<T extends Options>(
  argv: readonly string[],
  options: T,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (err) {
    // node:util's messages name the flag ("Unknown option '--x'..."); keep them, on one line.
    throw new UsageError((err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' '));
  }
}

/** A ws:// or wss:// server address (required). */
export function urlOption(value: string | undefined): URL {
  if (value === undefined) throw new UsageError('--url is required (e.g. --url ws://HOST:PORT)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url is not a valid URL: "${value}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`--url must start with ws:// or wss://, got "${value}"`);
  }
  return url;
}

/** An integer option within [min, max], or `fallback` when absent. */
export function intOption(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** `--speed`: a number above 0 (a factor of the recorded pace), or `max` (Infinity). */
export function speedOption(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'max') return Number.POSITIVE_INFINITY;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--speed must be a number above 0 or "max", got "${value}"`);
  }
  return n;
}

/** A number of seconds above 0, or undefined when absent. */
export function secondsOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 31_536_000) {
    throw new UsageError(`--${name} must be a number of seconds above 0, got "${value}"`);
  }
  return n;
}

/** One of `choices`, or `fallback` when absent. */
export function choiceOption<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    const list = `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
    throw new UsageError(`--${name} must be ${list}, got "${value}"`);
  }
  return value as T;
}

/** A time: an integer of µs since the Unix epoch, or an ISO 8601 date/time (ms precision). */
export function timeOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) {
    const us = Number(value);
    if (Number.isSafeInteger(us)) return us;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms) && ms >= 0) return ms * 1000;
  }
  throw new UsageError(
    `--${name} must be an ISO 8601 time (2026-05-01T12:00:00Z) or µs since the Unix epoch, got "${value}"`,
  );
}

/** A comma-separated symbol list (empty items dropped); undefined when absent. */
export function listOption(name: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = [...new Set(value.split(',').filter((s) => s !== ''))];
  if (items.length === 0) throw new UsageError(`--${name} names no symbol: "${value}"`);
  return items;
}

/** A token from its flag, else from the environment variable; '' counts as absent. */
export function tokenOption(value: string | undefined, envName: string): string | undefined {
  const token = value ?? process.env[envName];
  return token === undefined || token === '' ? undefined : token;
}

/** µs as an ISO time, for messages. */
export function isoOfUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** One line on stderr, prefixed with the tool's name. */
export function note(name: string, line: string): void {
  process.stderr.write(`${name}: ${line}\n`);
}

/**
 * Runs a tool's main: its result is the exit status. Errors are printed as
 * one line with their code; a UsageError exits 2 (with a pointer to --help).
 */
export function run(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const code =
        typeof err === 'object' && err !== null && typeof (err as ToolError).code === 'string'
          ? (err as ToolError).code
          : undefined;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof UsageError) {
        note(name, `${message} (see --help)`);
        process.exit(EXIT_USAGE);
      }
      note(name, code === undefined ? message : `${message} [${code}]`);
      if (code === undefined && err instanceof Error && err.stack !== undefined) {
        process.stderr.write(`${err.stack}\n`);
      }
      process.exit(EXIT_FAILURE);
    },
  );
}
