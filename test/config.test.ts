import { describe, expect, it } from 'vitest';
import {
  type Config,
  DEFAULTS,
  OPTIONS,
  buildConfig,
  helpText,
  parseCommandLine,
} from '../src/config.js';
import { ConfigError, ServerErrorCode, TickwireError } from '../src/errors.js';

const parse = (argv: string[], env: Record<string, string | undefined> = {}): Config =>
  parseCommandLine(argv, env).config;

/** Runs `fn` and returns the ConfigError it throws. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(TickwireError);
    expect((err as ConfigError).code).toBe('invalid_config');
    expect((err as ConfigError).code).toBe(ServerErrorCode.InvalidConfig);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const intOptions = OPTIONS.filter((o) => o.kind === 'int');
const boolOptions = OPTIONS.filter((o) => o.kind === 'bool');

describe('config defaults', () => {
  it('uses the documented defaults with no flags and no env', () => {
    const { help, config } = parseCommandLine([], {});
    expect(help).toBe(false);
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      streamToken: undefined,
      demo: false,
      demoRate: 2000,
      demoSymbols: 40,
      maxFeedFrame: 1_048_576,
      maxStreamFrame: 16_384,
      maxBackpressure: 4_194_304,
      maxSymbols: 100_000,
      maxSubscriptions: 10_000,
      idleTimeoutS: 120,
      latencyWindow: 65_536,
      allowUwsFallback: false,
    });
    expect(config).toMatchObject(DEFAULTS);
  });

  it('reads the process environment only when given', () => {
    expect(parseCommandLine([]).config.port).toBe(8080);
  });

  it('generates a feed token when none is given', () => {
    const a = parse([]);
    const b = parse([]);
    expect(a.feedTokenGenerated).toBe(true);
    expect(typeof a.feedToken).toBe('string');
    expect(a.feedToken.length).toBeGreaterThanOrEqual(16);
    expect(a.feedToken).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a.feedToken).not.toBe(b.feedToken);
  });

  it('keeps a given feed token (flag or env)', () => {
    const byFlag = parse(['--feed-token', 's3cret-token']);
    expect(byFlag.feedToken).toBe('s3cret-token');
    expect(byFlag.feedTokenGenerated).toBe(false);
    const byEnv = parse([], { TICKWIRE_FEED_TOKEN: 'env-token-1234' });
    expect(byEnv.feedToken).toBe('env-token-1234');
    expect(byEnv.feedTokenGenerated).toBe(false);
  });

  it('keeps a given stream token', () => {
    expect(parse(['--stream-token=stream-secret']).streamToken).toBe('stream-secret');
    expect(parse([], { TICKWIRE_STREAM_TOKEN: 'abcdefgh' }).streamToken).toBe('abcdefgh');
  });

  it('returns a frozen object', () => {
    const config = parse(['--port', '9000']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(9000);
  });
});

describe('config sources', () => {
  it('reads every option from its environment variable', () => {
    const config = parse([], {
      TICKWIRE_HOST: '127.0.0.1',
      TICKWIRE_PORT: '9001',
      TICKWIRE_DEMO: 'yes',
      TICKWIRE_DEMO_RATE: '500',
      TICKWIRE_DEMO_SYMBOLS: '12',
      TICKWIRE_MAX_FEED_FRAME: '4096',
      TICKWIRE_MAX_STREAM_FRAME: '2048',
      TICKWIRE_MAX_BACKPRESSURE: '65536',
      TICKWIRE_MAX_SYMBOLS: '77',
      TICKWIRE_MAX_SUBSCRIPTIONS: '33',
      TICKWIRE_IDLE_TIMEOUT: '30',
      TICKWIRE_LATENCY_WINDOW: '1024',
      TICKWIRE_ALLOW_UWS_FALLBACK: 'on',
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9001,
      demo: true,
      demoRate: 500,
      demoSymbols: 12,
      maxFeedFrame: 4096,
      maxStreamFrame: 2048,
      maxBackpressure: 65536,
      maxSymbols: 77,
      maxSubscriptions: 33,
      idleTimeoutS: 30,
      latencyWindow: 1024,
      allowUwsFallback: true,
    });
  });

  it('reads every option from its flag', () => {
    const config = parse([
      '--host',
      '::1',
      '--port=9002',
      '--demo',
      '--demo-rate',
      '10',
      '--demo-symbols',
      '3',
      '--max-feed-frame',
      '100',
      '--max-stream-frame',
      '200',
      '--max-backpressure',
      '2048',
      '--max-symbols',
      '5',
      '--max-subscriptions',
      '6',
      '--idle-timeout',
      '8',
      '--latency-window',
      '16',
      '--allow-uws-fallback',
    ]);
    expect(config).toMatchObject({
      host: '::1',
      port: 9002,
      demo: true,
      demoRate: 10,
      demoSymbols: 3,
      maxFeedFrame: 100,
      maxStreamFrame: 200,
      maxBackpressure: 2048,
      maxSymbols: 5,
      maxSubscriptions: 6,
      idleTimeoutS: 8,
      latencyWindow: 16,
      allowUwsFallback: true,
    });
  });

  it('lets flags win over the environment', () => {
    const env = {
      TICKWIRE_PORT: '7000',
      TICKWIRE_HOST: '10.0.0.1',
      TICKWIRE_DEMO: 'off',
      TICKWIRE_FEED_TOKEN: 'env-token-xyz',
    };
    const config = parse(['--port', '9000', '--demo', '--feed-token', 'flag-token-xyz'], env);
    expect(config.port).toBe(9000);
    expect(config.demo).toBe(true);
    expect(config.feedToken).toBe('flag-token-xyz');
    expect(config.host).toBe('10.0.0.1');
    expect(parse([], env).port).toBe(7000);
  });

  it.each(intOptions.map((o) => [o.flag, o] as const))(
    'accepts --%s at both ends of its range',
    (_flag, o) => {
      const key = o.key;
      expect(parse([`--${o.flag}`, String(o.min)])[key]).toBe(o.min);
      expect(parse([], { [o.env]: String(o.max) })[key]).toBe(o.max);
      configError(() => parse([`--${o.flag}=${o.max! + 1}`]));
      if (o.min! > 0) configError(() => parse([], { [o.env]: String(o.min! - 1) }));
    },
  );

  it('accepts port 0 (pick a free port) from flag, env and typed values', () => {
    expect(parse(['--port', '0']).port).toBe(0);
    expect(parse([], { TICKWIRE_PORT: '0' }).port).toBe(0);
    expect(buildConfig({ port: 0 }).port).toBe(0);
  });

  it.each(['1', 'true', 'yes', 'on', 'TRUE', 'Yes', 'ON'])('parses boolean env %s as true', (v) => {
    for (const o of boolOptions) {
      expect(parse([], { [o.env]: v })[o.key]).toBe(true);
    }
  });

  it.each(['0', 'false', 'no', 'off', 'FALSE', 'Off'])('parses boolean env %s as false', (v) => {
    for (const o of boolOptions) {
      expect(parse([], { [o.env]: v })[o.key]).toBe(false);
    }
  });

  it('accepts typed values in buildConfig', () => {
    const c = buildConfig({ demo: true, port: 1234, host: 'localhost', feedToken: '12345678' });
    expect(c).toMatchObject({ demo: true, port: 1234, host: 'localhost', feedToken: '12345678' });
    expect(c.feedTokenGenerated).toBe(false);
  });

  it('reports --help', () => {
    expect(parseCommandLine(['--help'], {}).help).toBe(true);
  });
});

describe('config validation', () => {
  it.each([
    ['port above 65535', ['--port', '65536']],
    ['negative port', ['--port=-1']],
    ['non-numeric port', ['--port', 'http']],
    ['fractional port', ['--port', '80.5']],
    ['hex port', ['--port', '0x50']],
    ['empty port', ['--port=']],
    ['port without a value', ['--port']],
    ['zero demo rate', ['--demo-rate', '0']],
    ['negative max symbols', ['--max-symbols=-5']],
    ['unknown flag', ['--nope']],
    ['positional argument', ['serve']],
    ['value for a boolean flag', ['--demo=yes']],
    ['empty feed token', ['--feed-token', '']],
    ['empty stream token', ['--stream-token', '']],
    ['empty host', ['--host', '  ']],
  ])('rejects %s', (_what, argv) => {
    configError(() => parse(argv));
  });

  it.each([
    ['bad port', { TICKWIRE_PORT: '99999' }],
    ['negative port', { TICKWIRE_PORT: '-80' }],
    ['non-numeric rate', { TICKWIRE_DEMO_RATE: 'fast' }],
    ['empty int', { TICKWIRE_MAX_SYMBOLS: '' }],
    ['bad boolean', { TICKWIRE_DEMO: 'maybe' }],
    ['bad boolean 2', { TICKWIRE_ALLOW_UWS_FALLBACK: '2' }],
    ['empty feed token', { TICKWIRE_FEED_TOKEN: '' }],
    ['empty stream token', { TICKWIRE_STREAM_TOKEN: '' }],
  ])('rejects env with %s', (_what, env) => {
    configError(() => parse([], env));
  });

  it('accepts short feed and stream tokens (the contract sets no minimum)', () => {
    expect(parse(['--feed-token', 'f', '--stream-token', 'abc'])).toMatchObject({
      feedToken: 'f',
      streamToken: 'abc',
    });
    expect(parse([], { TICKWIRE_FEED_TOKEN: 'secret' })).toMatchObject({ feedToken: 'secret' });
  });

  it.each([
    ['fractional number', { port: 80.5 }],
    ['negative number', { latencyWindow: -1 }],
    ['NaN', { maxSymbols: Number.NaN }],
    ['boolean for int', { port: true }],
    ['number for bool', { demo: 1 }],
    ['number for string', { host: 42 }],
  ])('buildConfig rejects a %s', (_what, raw) => {
    configError(() => buildConfig(raw));
  });
});

describe('helpText', () => {
  it('lists every flag and its environment variable', () => {
    const text = helpText();
    for (const o of OPTIONS) {
      expect(text).toContain(`--${o.flag}`);
      expect(text).toContain(o.env);
    }
    expect(text).toContain('--help');
  });
});
