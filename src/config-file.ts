/**
 * The config file (`--config FILE`, or TICKWIRE_CONFIG): one JSON object
 * whose keys are the option names of `--help` without the dashes, e.g.
 *
 *   { "port": 8080, "max-connections": 5000, "demo": true,
 *     "allowed-origins": ["https://app.example"] }
 *
 * Numbers are JSON numbers, switches `true`/`false`, everything else a
 * string; the comma-separated options (`allowed-origins`, `nats`) also take
 * an array of strings. Anything else is refused with one line naming the
 * file and the key: an unknown key (camelCase, TICKWIRE_* and `--` forms
 * get the right name as a hint), a value of the wrong JSON type, a file over
 * 1 MiB, nested deeper than an object of arrays, not UTF-8, not JSON, or
 * unreadable. JSON.parse's own message is not passed on: on newer V8 it
 * quotes the file, which may hold tokens.
 *
 * This reads and shapes the file only; config.ts validates the values
 * (ranges, URLs, token rules) and merges: flags > environment > file.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Config, OptionSpec } from './config.js';
import { ConfigError } from './errors.js';
import { jsonNestsWithin } from './protocol/json-depth.js';

/** The environment variable that names the file when --config is not given. */
export const CONFIG_ENV = 'TICKWIRE_CONFIG';
/** Largest config file read, in bytes. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;
/** The object, and arrays in it (level 2). */
const MAX_DEPTH = 2;

export interface ConfigFile {
  /** The path as given, for messages. */
  readonly path: string;
  /** Option values by Config key, JSON-typed; lists joined with commas. */
  readonly values: Readonly<Partial<Record<keyof Config, unknown>>>;
  /** How an error names a key of this file: `config file PATH: "key"`. */
  where(option: OptionSpec): string;
}

/** Reads and shapes the file at `path` against `options`; throws ConfigError. */
export function readConfigFile(path: string, options: readonly OptionSpec[]): ConfigFile {
  // A path with control characters (a newline) is quoted: the message stays one line.
  const shown = [...path].some((c) => c < ' ') ? JSON.stringify(path) : path;
  const label = `config file ${shown}`;
  const fail = (why: string): never => {
    throw new ConfigError(`${label}: ${why}`);
  };
  if (path === '') fail(`--config (${CONFIG_ENV}) must name a file`);
  const bytes = readBounded(path, fail);
  // A byte-order mark some editors write is not JSON; skip it.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return fail('is not valid UTF-8');
  }
  if (!jsonNestsWithin(body, MAX_DEPTH)) {
    fail(
      `nests deeper than ${MAX_DEPTH} levels: it is one object of options (lists as arrays of strings)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(`is not valid JSON${jsonErrorPlace(text, err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail('must hold one JSON object of options, e.g. {"port": 8080}');
  }
  const byFlag = new Map(options.map((o) => [o.flag, o]));
  const values: Partial<Record<keyof Config, unknown>> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const o = byFlag.get(key);
    if (o === undefined) fail(unknownKey(key, options));
    else values[o.key] = shape(o, value, (why) => fail(`"${key}" ${why}`));
  }
  return { path, values, where: (o) => `${label}: "${o.flag}"` };
}

/** Reads at most CONFIG_FILE_MAX_BYTES + 1 bytes (also from pipes, whose size is unknown). */
function readBounded(path: string, fail: (why: string) => never): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return fail(`cannot be opened (${errno(err)})`);
  }
  try {
    const buf = Buffer.alloc(CONFIG_FILE_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) fail(`is larger than ${CONFIG_FILE_MAX_BYTES} bytes`);
    }
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return fail(`cannot be read (${errno(err)})`);
  } finally {
    closeSync(fd);
  }
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** " (line L, column C)" when V8 said where, else "". */
function jsonErrorPlace(text: string, err: unknown): string {
  const at = /at position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (at === null) return '';
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

/** The value as config.ts's parseOption takes it, after checking its JSON type. */
function shape(o: OptionSpec, value: unknown, fail: (why: string) => never): unknown {
  if (o.kind === 'int') {
    if (typeof value !== 'number') fail(`must be a JSON number, got ${typeOf(value)}`);
    return value;
  }
  if (o.kind === 'bool') {
    if (typeof value !== 'boolean') fail(`must be true or false, got ${typeOf(value)}`);
    return value;
  }
  if (o.list === true && Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (typeof item !== 'string' || item.trim() === '' || item.includes(',')) {
        fail('must be a string or an array of non-empty strings without commas');
      }
    }
    return (value as string[]).join(',');
  }
  if (typeof value !== 'string') {
    fail(
      o.list === true
        ? `must be a string or an array of strings, got ${typeOf(value)}`
        : `must be a string, got ${typeOf(value)}`,
    );
  }
  return value;
}

/** The JSON type of a value, for messages (never the value: it may be a token). */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** The message for an unknown key, with the right name when the key is another spelling of one. */
function unknownKey(key: string, options: readonly OptionSpec[]): string {
  if (key === 'config')
    return `"config" cannot be set in a config file (--config or ${CONFIG_ENV})`;
  const bare = key.replace(/^-+/, '').toLowerCase();
  const o = options.find(
    (x) =>
      x.key === key ||
      x.env === key ||
      x.flag === bare ||
      x.key.toLowerCase() === bare ||
      x.env.toLowerCase() === bare,
  );
  const shown = JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
  return o === undefined
    ? `unknown key ${shown} (keys are the option names of --help, e.g. "max-connections")`
    : `unknown key ${shown}: write "${o.flag}" (keys are the option names of --help)`;
}
