/**
 * --journal DIR, --journal-sync always|interval|never (default interval),
 * --journal-max-bytes, --journal-max-age: read from flags and TICKWIRE_*;
 * a journal with --nats, an empty directory name, an unknown sync mode and
 * out-of-range bounds are refused with invalid_config.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig, parseCommandLine } from '../src/config.js';
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

describe('--journal options', () => {
  it('no journal by default; interval sync, 1 GiB and 24 h when one is set', () => {
    const c = parseCommandLine([], {}).config;
    expect(c.journal).toBeUndefined();
    const j = parseCommandLine(['--journal', '/var/lib/tickwire']).config;
    expect(j.journal).toBe('/var/lib/tickwire');
    expect(j.journalSync).toBe('interval');
    expect(j.journalMaxBytes).toBe(1024 ** 3);
    expect(j.journalMaxAgeS).toBe(86_400);
  });

  it('reads flags and environment variables; the flag wins', () => {
    const env = {
      TICKWIRE_JOURNAL: '/data/j',
      TICKWIRE_JOURNAL_SYNC: 'never',
      TICKWIRE_JOURNAL_MAX_BYTES: '2097152',
      TICKWIRE_JOURNAL_MAX_AGE: '60',
    };
    const c = parseCommandLine(['--journal-sync', 'always'], env).config;
    expect([c.journal, c.journalSync, c.journalMaxBytes, c.journalMaxAgeS]).toEqual([
      '/data/j',
      'always',
      2_097_152,
      60,
    ]);
  });

  it('refuses a journal with --nats: JetStream keeps numbering and history there', () => {
    const err = refusal(() => buildConfig({ journal: '/tmp/j', nats: 'nats://127.0.0.1:4222' }));
    expect(err.code).toBe(ServerErrorCode.InvalidConfig);
    expect(err.message).toMatch(/--journal/);
  });

  it.each([
    [{ journal: '' }],
    [{ journal: '/tmp/j', journalSync: 'sometimes' }],
    [{ journal: '/tmp/j', journalSync: 'Always' }],
    [{ journal: '/tmp/j', journalMaxBytes: 1000 }],
    [{ journal: '/tmp/j', journalMaxAgeS: 0 }],
  ])('refuses %j', (raw) => {
    expect(refusal(() => buildConfig(raw)).code).toBe(ServerErrorCode.InvalidConfig);
  });
});
