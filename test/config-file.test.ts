/**
 * The config file (`--config FILE` or TICKWIRE_CONFIG): a JSON object whose
 * keys are the option names of --help (`"max-connections"`). Precedence:
 * flags > environment > file > defaults. Unknown keys, bad values, bad JSON
 * and unreadable files are refused with invalid_config, naming the file and
 * the key. No sockets; the files live in a temporary folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, DEFAULTS, helpText, parseCommandLine } from '../src/config.js';
import { ConfigError, ServerErrorCode } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `content` (a value to JSON-encode, or raw text) to a new file; returns its path. */
function file(content: unknown, raw = false): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, raw ? (content as string) : JSON.stringify(content));
  return path;
}

const parse = (argv: string[], env: Record<string, string | undefined> = {}): Config =>
  parseCommandLine(argv, env).config;

/** The ConfigError `fn` throws: invalid_config, one line. */
function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(ServerErrorCode.InvalidConfig);
    expect((err as ConfigError).message).not.toContain('\n');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config file: precedence flags > environment > file > defaults', () => {
  const path = file({ port: 1111, 'max-connections': 500, demo: true, host: '127.0.0.1' });

  it('file values replace the defaults', () => {
    const c = parse(['--config', path]);
    expect(c).toMatchObject({ port: 1111, maxConnections: 500, demo: true, host: '127.0.0.1' });
    expect(c.maxSymbols).toBe(DEFAULTS.maxSymbols);
  });

  it('the environment wins over the file', () => {
    const c = parse(['--config', path], { TICKWIRE_PORT: '2222', TICKWIRE_DEMO: '0' });
    expect(c).toMatchObject({ port: 2222, demo: false, maxConnections: 500 });
  });

  it('flags win over the environment and the file', () => {
    const c = parse(['--config', path, '--port', '3333'], { TICKWIRE_PORT: '2222' });
    expect(c).toMatchObject({ port: 3333, maxConnections: 500 });
  });

  it('TICKWIRE_CONFIG names the file; --config wins over it', () => {
    expect(parse([], { TICKWIRE_CONFIG: path }).port).toBe(1111);
    const other = file({ port: 4444 });
    expect(parse(['--config', other], { TICKWIRE_CONFIG: path }).port).toBe(4444);
  });

  it('without a file, the defaults', () => {
    expect(parse([]).port).toBe(DEFAULTS.port);
  });

  it('port 0 is legal in the file; the result is one frozen object', () => {
    const c = parse(['--config', file({ port: 0 })]);
    expect(c.port).toBe(0);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('the list options take a comma-separated string or an array of strings', () => {
    const asArray = parse([
      '--config',
      file({ 'allowed-origins': ['https://a.example', 'https://b.example'] }),
    ]);
    expect(asArray.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    const asString = parse([
      '--config',
      file({ 'allowed-origins': 'https://a.example, https://b.example' }),
    ]);
    expect(asString.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('an empty object is a valid file', () => {
    expect(parse(['--config', file({})]).port).toBe(DEFAULTS.port);
  });
});

describe('config file: refused keys and values name the file and the key', () => {
  it('an unknown key', () => {
    const path = file({ port: 1, 'max-conections': 5 });
    const err = refusal(() => parse(['--config', path]));
    expect(err.message).toContain(path);
    expect(err.message).toContain('"max-conections"');
  });

  it.each([
    ['camelCase', 'maxConnections'],
    ['an environment name', 'TICKWIRE_MAX_CONNECTIONS'],
    ['a flag with dashes', '--max-connections'],
  ])('a key written as %s, with the --help name as the hint', (_what, key) => {
    const path = file({ [key]: 5 });
    const err = refusal(() => parse(['--config', path]));
    expect(err.message).toContain(`"${key}"`);
    expect(err.message).toContain('"max-connections"');
  });

  it('a config key inside the file', () => {
    const err = refusal(() => parse(['--config', file({ config: 'other.json' })]));
    expect(err.message).toContain('"config"');
  });

  it.each([
    ['out of range', { port: 70_000 }, 'port'],
    ['a string for a number', { port: '8080' }, 'port'],
    ['a fraction', { 'max-symbols': 1.5 }, 'max-symbols'],
    ['a string for a boolean', { demo: 'yes' }, 'demo'],
    ['a number for a string', { host: 42 }, 'host'],
    ['null', { 'stream-token': null }, 'stream-token'],
    ['an object', { 'max-connections': { value: 5 } }, 'max-connections'],
    ['an array for a number', { port: [8080] }, 'port'],
    ['an array holding a non-string', { nats: ['nats://a:4222', 5] }, 'nats'],
    ['an empty token', { 'feed-token': '' }, 'feed-token'],
    ['a bad NATS URL', { nats: 'http://x' }, 'nats'],
  ])('a bad value: %s', (_what, content, key) => {
    const path = file(content);
    const err = refusal(() => parse(['--config', path]));
    expect(err.message).toContain(path);
    expect(err.message).toContain(`"${key}"`);
  });

  it('a bad value is refused even when a flag overrides it', () => {
    const path = file({ port: 'eighty' });
    const err = refusal(() => parse(['--config', path, '--port', '80']));
    expect(err.message).toContain('"port"');
  });

  it('a secret in a bad value is not echoed', () => {
    const err = refusal(() => parse(['--config', file({ 'admin-token': 'short' })]));
    expect(err.message).toContain('"admin-token"');
    expect(err.message).not.toContain('short"');
  });
});

describe('config file: the file itself', () => {
  it('bad JSON, without echoing the file', () => {
    const path = file('{"feed-token": "s3cret-value", "port": 80,,}', true);
    const err = refusal(() => parse(['--config', path]));
    expect(err.message).toContain(path);
    expect(err.message).not.toContain('s3cret-value');
  });

  it.each([
    ['an array', [{ port: 1 }]],
    ['a number', 8080],
    ['null', null],
  ])('a top level that is %s', (_what, content) => {
    const path = file(content);
    expect(refusal(() => parse(['--config', path])).message).toContain(path);
  });

  it('an empty file', () => {
    refusal(() => parse(['--config', file('', true)]));
  });

  it('a missing file (ENOENT)', () => {
    const path = join(dir, 'no-such-file.json');
    const err = refusal(() => parse(['--config', path]));
    expect(err.message).toContain(path);
    expect(err.message).toContain('ENOENT');
  });

  it('a directory', () => {
    const path = join(dir, 'a-folder');
    mkdirSync(path);
    expect(refusal(() => parse(['--config', path])).message).toContain(path);
  });

  it('an empty name', () => {
    refusal(() => parse(['--config', '']));
    refusal(() => parse([], { TICKWIRE_CONFIG: '' }));
  });

  it('over 1 MiB', () => {
    const path = file(`{"host": "${'a'.repeat(1024 * 1024)}"}`, true);
    expect(refusal(() => parse(['--config', path])).message).toContain(path);
  });

  it('nested deeper than an object of arrays', () => {
    const path = file(`{"nats": ${'['.repeat(5000)}${']'.repeat(5000)}}`, true);
    expect(refusal(() => parse(['--config', path])).message).toContain(path);
  });

  it('invalid UTF-8', () => {
    const path = join(dir, 'latin1.json');
    writeFileSync(
      path,
      Buffer.from([0x7b, 0x22, 0x68, 0x6f, 0x73, 0x74, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]),
    );
    expect(refusal(() => parse(['--config', path])).message).toContain(path);
  });

  it('a UTF-8 byte-order mark is allowed', () => {
    const path = file('\ufeff{"port": 1234}', true);
    expect(parse(['--config', path]).port).toBe(1234);
  });
});

describe('--help', () => {
  it('documents --config and TICKWIRE_CONFIG', () => {
    const line = helpText()
      .split('\n')
      .find((l) => l.trimStart().startsWith('--config '));
    expect(line).toBeDefined();
    expect(line).toContain('TICKWIRE_CONFIG');
    expect(parseCommandLine(['--help', '--config', file({})], {}).help).toBe(true);
  });
});
