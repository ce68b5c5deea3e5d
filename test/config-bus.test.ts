/**
 * Options of the NATS bus and recovery: --nats URLs are validated (and
 * credentials never echoed in the error), --history and --workers ranges.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../src/config.js';
import { ConfigError, ServerErrorCode } from '../src/errors.js';

function refusal(raw: Record<string, unknown>): ConfigError {
  try {
    buildConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('--nats', () => {
  it('accepts one or several nats:// URLs, with or without credentials', () => {
    expect(buildConfig({ nats: 'nats://127.0.0.1:4222' }).nats).toBe('nats://127.0.0.1:4222');
    expect(buildConfig({ nats: 'nats://a:4222, nats://b:4222' }).nats).toBe(
      'nats://a:4222, nats://b:4222',
    );
    expect(buildConfig({ nats: 'nats://user:pw@a:4222' }).nats).toBe('nats://user:pw@a:4222');
  });

  it('is undefined by default (the embedded bus)', () => {
    expect(buildConfig({}).nats).toBeUndefined();
  });

  it('refuses other schemes and garbage without echoing credentials', () => {
    expect(refusal({ nats: 'http://a:4222' }).code).toBe(ServerErrorCode.InvalidConfig);
    expect(refusal({ nats: 'a:4222' }).code).toBe(ServerErrorCode.InvalidConfig);
    // The Node client has no WebSocket transport.
    expect(refusal({ nats: 'ws://a:8080' }).code).toBe(ServerErrorCode.InvalidConfig);
    expect(buildConfig({ nats: 'tls://a:4222' }).nats).toBe('tls://a:4222');
    const err = refusal({ nats: 'nats://user:s3cret@a:4222/x/y' });
    expect(err.code).toBe(ServerErrorCode.InvalidConfig);
    expect(err.message).not.toContain('s3cret');
  });
});

describe('--history, --workers, --nats-replicas', () => {
  it('have their defaults', () => {
    const c = buildConfig({});
    expect([c.history, c.workers, c.natsReplicas]).toEqual([100, 1, 1]);
  });

  it('refuse values out of range', () => {
    expect(refusal({ history: -1 }).code).toBe(ServerErrorCode.InvalidConfig);
    expect(refusal({ workers: 0 }).code).toBe(ServerErrorCode.InvalidConfig);
    expect(refusal({ natsReplicas: 6 }).code).toBe(ServerErrorCode.InvalidConfig);
  });
});
