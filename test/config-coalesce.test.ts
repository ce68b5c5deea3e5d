/**
 * --coalesce (TICKWIRE_COALESCE): `turn` (default) or `frame`; anything else
 * is refused with invalid_config naming the allowed values; flags win over env.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, buildConfig, parseCommandLine } from '../src/config.js';
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

describe('--coalesce', () => {
  it('defaults to turn', () => {
    expect(parseCommandLine([], {}).config.coalesce).toBe('turn');
    expect(DEFAULTS.coalesce).toBe('turn');
  });

  it('is read from its flag and its environment variable; the flag wins', () => {
    expect(parseCommandLine(['--coalesce', 'frame']).config.coalesce).toBe('frame');
    expect(parseCommandLine([], { TICKWIRE_COALESCE: 'frame' }).config.coalesce).toBe('frame');
    expect(
      parseCommandLine(['--coalesce=turn'], { TICKWIRE_COALESCE: 'frame' }).config.coalesce,
    ).toBe('turn');
  });

  it.each([['bogus'], ['Turn'], [''], [' frame'], [1], [true]])('refuses %j', (value) => {
    const err = refusal(() => buildConfig({ coalesce: value }));
    expect(err.code).toBe(ServerErrorCode.InvalidConfig);
    expect(err.message).toMatch(/--coalesce \(TICKWIRE_COALESCE\)/);
  });
});
