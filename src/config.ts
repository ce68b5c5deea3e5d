/**
 * Configuration: CLI flags, TICKWIRE_* environment variables and a JSON
 * config file (config-file.ts), validated into one frozen object.
 * Precedence: flags > environment > file > defaults. Every option is listed
 * once in OPTIONS, which drives parsing, validation and `--help`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CONFIG_ENV, type ConfigFile, readConfigFile } from './config-file.js';
import { type Config, OPTIONS, type OptionSpec } from './config-options.js';
import { ConfigError } from './errors.js';

export { type Config, OPTIONS, type OptionSpec } from './config-options.js';

export const DEFAULTS = Object.freeze({
  host: '0.0.0.0',
  port: 8080,
  demo: false,
  demoRate: 2000,
  demoSymbols: 40,
  maxFeedFrame: 1024 * 1024,
  maxStreamFrame: 16 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  maxSymbols: 100_000,
  maxSubscriptions: 10_000,
  idleTimeoutS: 120,
  latencyWindow: 65_536,
  allowUwsFallback: false,
  conflateAt: 256 * 1024,
  stallTimeoutS: 10,
  maxConnections: 10_000,
  maxConnectionsPerIp: 1000,
  feedRate: 1_000_000,
  controlRate: 20,
  controlBurst: 200,
  drainTimeoutS: 10,
  history: 100,
  historyBytes: 256 * 1024 * 1024,
  coalesce: 'turn',
  natsReplicas: 1,
  natsRetain: 10_000,
  natsMaxBytes: 1024 * 1024 * 1024,
  natsMaxPending: 256 * 1024 * 1024,
  journalSync: 'interval',
  journalMaxBytes: 1024 * 1024 * 1024,
  journalMaxAgeS: 86_400,
  workers: 1,
});

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

export interface ParsedCommandLine {
  readonly help: boolean;
  readonly config: Config;
}

/** Parses argv (without node and script) and env into a frozen Config. */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedCommandLine {
  const parseOptions: Record<string, { type: 'string' | 'boolean' }> = {
    help: { type: 'boolean' },
    config: { type: 'string' },
  };
  for (const o of OPTIONS)
    parseOptions[o.flag] = { type: o.kind === 'bool' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: parseOptions,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  // --help prints the options whatever else is given: no file is read, nothing else is checked.
  if (values.help === true) return { help: true, config: buildConfig({}, {}) };
  const path = typeof values.config === 'string' ? values.config : env[CONFIG_ENV];
  const file = path === undefined ? undefined : readConfigFile(path, OPTIONS);
  const raw: Record<string, unknown> = {};
  const where: Partial<Record<keyof Config, string>> = {};
  for (const o of OPTIONS) {
    const fromFlag = values[o.flag];
    const fromEnv = env[o.env];
    if (fromFlag !== undefined) raw[o.key] = fromFlag;
    else if (fromEnv !== undefined) raw[o.key] = fromEnv;
    else if (file?.values[o.key] !== undefined) {
      raw[o.key] = file.values[o.key];
      where[o.key] = file.where(o);
    }
  }
  if (file !== undefined) checkFileValues(file);
  return { help: false, config: buildConfig(raw, where) };
}

/**
 * The value for an error message, unless it holds credentials (any `@`: a password may itself
 * hold `@`, `/` or `,`, so no partial redaction is safe).
 */
export function redactNatsUrls(v: string): string {
  return v.includes('@') ? '(not shown: it holds user information)' : JSON.stringify(v);
}

/** Validates every value of the file, also those a flag or the environment overrides. */
function checkFileValues(file: ConfigFile): void {
  for (const o of OPTIONS) {
    const v = file.values[o.key];
    if (v !== undefined) parseOption(o, v, file.where(o));
  }
}

/**
 * Validates raw option values (strings from env/flags, or typed values).
 * `where`: how an error names an option's source (default `--flag (ENV)`),
 * e.g. the config file and key for values read from a file.
 */
export function buildConfig(
  raw: Readonly<Record<string, unknown>>,
  where: Readonly<Partial<Record<keyof Config, string>>> = {},
): Config {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const o of OPTIONS) {
    const v = raw[o.key];
    if (v === undefined) continue;
    out[o.key] = parseOption(o, v, where[o.key] ?? `--${o.flag} (${o.env})`);
  }
  const given = typeof out.feedToken === 'string';
  if (!given) out.feedToken = randomBytes(24).toString('base64url');
  out.feedTokenGenerated = !given;
  if (out.streamToken === undefined) out.streamToken = undefined;
  if (out.adminToken === undefined) out.adminToken = undefined;
  if (out.allowedOrigins === undefined) out.allowedOrigins = undefined;
  if (out.nats === undefined) out.nats = undefined;
  if (out.journal === undefined) out.journal = undefined;
  else if (out.nats !== undefined) {
    throw new ConfigError(
      `${where.journal ?? '--journal (TICKWIRE_JOURNAL)'} cannot be used with --nats: JetStream keeps the numbering and history there (docs/journal.md)`,
    );
  } else if (out.journal === '') {
    throw new ConfigError(
      `${where.journal ?? '--journal (TICKWIRE_JOURNAL)'} must name a directory`,
    );
  }
  if (out.healthPort === undefined) out.healthPort = undefined;
  else if (out.healthPort !== 0 && out.healthPort === out.port) {
    throw new ConfigError(
      `${where.healthPort ?? '--health-port (TICKWIRE_HEALTH_PORT)'} must differ from the port (${String(out.port)})`,
    );
  }
  return Object.freeze(out) as unknown as Config;
}

/** One option's value, validated and converted; a ConfigError names `where`. */
export function parseOption(o: OptionSpec, v: unknown, where: string): unknown {
  if (o.kind === 'bool') {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && TRUE.has(v.toLowerCase())) return true;
    if (typeof v === 'string' && FALSE.has(v.toLowerCase())) return false;
    throw new ConfigError(
      `${where} must be a boolean (1/true/yes/on or 0/false/no/off), got ${JSON.stringify(v)}`,
    );
  }
  if (o.kind === 'int') {
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < (o.min ?? 0) || n > (o.max ?? Number.MAX_SAFE_INTEGER)) {
      throw new ConfigError(
        `${where} must be an integer from ${o.min} to ${o.max}, got ${JSON.stringify(v)}`,
      );
    }
    return n;
  }
  if (typeof v !== 'string') throw new ConfigError(`${where} must be a string`);
  if (o.oneOf !== undefined && !o.oneOf.includes(v)) {
    throw new ConfigError(
      `${where} must be one of ${o.oneOf.join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  if (o.key === 'host' && v.trim() === '') throw new ConfigError(`${where} must not be empty`);
  // Feed and stream tokens are the operator's choice (the wire contract sets
  // no minimum, and test rigs use short ones); only an empty one is refused,
  // since it would read as "no token". The admin token starts load tests
  // inside the process, so it keeps a floor.
  if ((o.key === 'feedToken' || o.key === 'streamToken') && v === '') {
    throw new ConfigError(`${where} must not be empty`);
  }
  if (o.key === 'adminToken' && v.length < 8) {
    throw new ConfigError(`${where} must be at least 8 characters`);
  }
  if (o.key === 'allowedOrigins') {
    const list = v
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    if (list.length === 0) throw new ConfigError(`${where} must list at least one origin`);
    return Object.freeze(list);
  }
  if (o.key === 'nats') {
    for (const url of v.split(',')) {
      // The Node nats client speaks nats:// and tls:// only (ws:// is nats.ws's).
      if (!/^(nats|tls):\/\/[^\s/]+(:\d+)?\/?$/.test(url.trim()))
        throw new ConfigError(
          // Credentials in a URL (nats://user:pass@host) are never echoed.
          `${where} must be nats://HOST:PORT (comma-separated), got ${redactNatsUrls(v)}`,
        );
    }
  }
  return v;
}

/** The text printed by --help. */
export function helpText(): string {
  const lines = [
    'Usage: tickwire [options]',
    '  (from a clone, after `npm run build`: node dist/src/main.js [options])',
    '',
    'Options (each also read from its environment variable and from the --config file;',
    'flags win over the environment, which wins over the file):',
  ];
  for (const o of OPTIONS) {
    const arg = o.kind === 'bool' ? '' : o.kind === 'int' ? ' N' : ' VALUE';
    lines.push(`  --${o.flag}${arg}`.padEnd(30) + `${o.env.padEnd(30)} ${o.help}`);
  }
  lines.push(
    '  --config FILE'.padEnd(30) +
      `${CONFIG_ENV.padEnd(30)} JSON file of options, read at start: one object whose keys are the flags ` +
      'above without "--", e.g. {"port": 8080, "max-connections": 5000, "demo": true}; unknown keys are refused',
  );
  lines.push('  --help'.padEnd(30) + ''.padEnd(30) + ' show this help');
  return lines.join('\n');
}
