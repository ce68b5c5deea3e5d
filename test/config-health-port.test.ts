/**
 * `--health-port N` (TICKWIRE_HEALTH_PORT, config file key `health-port`):
 * off by default, 0 to 65535 (0 picks a free port), never the main port.
 * Bad values are refused with invalid_config. No sockets.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, helpText, parseCommandLine } from '../src/config.js';
import { ConfigError, ServerErrorCode } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-health-port-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parse = (argv: string[], env: Record<string, string | undefined> = {}): Config =>
  parseCommandLine(argv, env).config;

function refused(argv: string[], env: Record<string, string> = {}): void {
  let err: unknown;
  try {
    parse(argv, env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe(ServerErrorCode.InvalidConfig);
}

describe('--health-port', () => {
  it('is off by default', () => {
    expect(parse([]).healthPort).toBeUndefined();
  });

  it('is read from the flag, the environment and the config file, in that order', () => {
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify({ 'health-port': 9001 }));
    expect(parse(['--config', path]).healthPort).toBe(9001);
    expect(parse(['--config', path], { TICKWIRE_HEALTH_PORT: '9002' }).healthPort).toBe(9002);
    expect(
      parse(['--config', path, '--health-port', '9003'], { TICKWIRE_HEALTH_PORT: '9002' })
        .healthPort,
    ).toBe(9003);
  });

  it('0 picks a free port, also with --port 0', () => {
    expect(parse(['--health-port', '0', '--port', '0']).healthPort).toBe(0);
  });

  it.each([
    ['above 65535', ['--health-port', '65536']],
    ['not a number', ['--health-port', 'http']],
    ['the main port', ['--port', '9000', '--health-port', '9000']],
    ['the default main port', ['--health-port', '8080']],
  ])('refuses %s', (_, argv) => {
    refused(argv);
  });

  it('is listed by --help with its environment variable', () => {
    const line = helpText()
      .split('\n')
      .find((l) => l.trimStart().startsWith('--health-port '));
    expect(line).toContain('TICKWIRE_HEALTH_PORT');
  });
});
