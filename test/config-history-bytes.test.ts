/**
 * --history-bytes (TICKWIRE_HISTORY_BYTES): the global byte budget of the
 * recovery history. Default 256 MiB; from 1 MiB to 2^40; flags win over env.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, buildConfig, helpText, parseCommandLine } from '../src/config.js';
import { ConfigError, ServerErrorCode } from '../src/errors.js';

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('--history-bytes', () => {
  it('defaults to 256 MiB', () => {
    expect(parseCommandLine([], {}).config.historyBytes).toBe(268_435_456);
    expect(DEFAULTS.historyBytes).toBe(268_435_456);
  });

  it('is read from its flag and its environment variable; the flag wins', () => {
    expect(parseCommandLine(['--history-bytes', '1048576']).config.historyBytes).toBe(1_048_576);
    expect(parseCommandLine([], { TICKWIRE_HISTORY_BYTES: '33554432' }).config.historyBytes).toBe(
      33_554_432,
    );
    expect(
      parseCommandLine(['--history-bytes=2097152'], { TICKWIRE_HISTORY_BYTES: '33554432' }).config
        .historyBytes,
    ).toBe(2_097_152);
  });

  it.each([
    ['below 1 MiB', { historyBytes: 1_048_575 }],
    ['zero', { historyBytes: '0' }],
    ['above 2^40', { historyBytes: 2 ** 40 + 1 }],
    ['a unit suffix', { historyBytes: '256M' }],
    ['a fraction', { historyBytes: 1_048_576.5 }],
    ['a negative number', { historyBytes: '-1' }],
  ])('refuses %s with invalid_config', (_what, raw) => {
    expect(refusal(() => buildConfig(raw)).code).toBe(ServerErrorCode.InvalidConfig);
  });

  it('is listed by --help with its environment variable', () => {
    const line = helpText()
      .split('\n')
      .find((l) => l.includes('--history-bytes'));
    expect(line).toContain('TICKWIRE_HISTORY_BYTES');
  });
});
