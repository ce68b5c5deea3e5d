/**
 * A refused `--nats` value is never echoed when it holds user information, whatever characters
 * the password holds (`/`, `@`, a space, a comma), from a flag, the environment or a file; and
 * `--help` prints the options without reading a config file or checking other values.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/config.js';
import { ConfigError, ServerErrorCode } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-config-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('not refused');
}

describe('a bad --nats value with credentials', () => {
  const secrets = ['pa/ss', 'tok en', 'p@ss', 'a,b', 'x y/z@w'];
  for (const secret of secrets) {
    it(`hides a password like ${JSON.stringify(secret)} (flag, env, file)`, () => {
      const url = `nats://user:${secret}@host:4222/extra path`;
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ nats: url }));
      for (const e of [
        refusal(() => parseCommandLine(['--nats', url], {})),
        refusal(() => parseCommandLine([], { TICKWIRE_NATS: url })),
        refusal(() => parseCommandLine(['--config', file], {})),
      ]) {
        expect(e.code).toBe(ServerErrorCode.InvalidConfig);
        expect(e.message).not.toContain(secret);
        expect(e.message).not.toContain('user:');
      }
    });
  }

  it('a bad value without credentials is still shown, to find the typo', () => {
    expect(refusal(() => parseCommandLine(['--nats', 'nats//oops:4222'], {})).message).toContain(
      'nats//oops:4222',
    );
  });
});

describe('--help', () => {
  it('prints with a broken config file, or with bad values elsewhere', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    expect(parseCommandLine(['--help', '--config', file], {}).help).toBe(true);
    expect(parseCommandLine(['--help'], { TICKWIRE_CONFIG: join(dir, 'missing.json') }).help).toBe(
      true,
    );
    expect(parseCommandLine(['--help', '--port', 'abc'], {}).help).toBe(true);
  });
});
