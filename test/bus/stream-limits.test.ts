/**
 * The JetStream stream's limits come from --nats-retain (never below
 * --history) and --nats-max-bytes; an existing stream's limits are raised to
 * them and never lowered (another node or an operator may rely on more).
 * Against a real nats-server.
 */
import { type JetStreamManager, type NatsConnection, connect as natsConnect } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { MAX_PENDING_BYTES } from '../../src/bus/sequencer.js';
import {
  RETAIN_PER_SUBJECT,
  STREAM_MAX_BYTES,
  STREAM_NAME,
  ensureStream,
} from '../../src/bus/stream.js';
import { ConfigError, ServerErrorCode } from '../../src/errors.js';
import { buildConfig } from '../../src/config.js';
import { NatsServer, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/clients.js';

const MiB = 1024 * 1024;

describe.skipIf(!natsAvailable)('JetStream stream limits', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await natsConnect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });

  afterEach(async () => {
    await jsm.streams.delete(STREAM_NAME).catch(() => false);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  test('a new stream gets the retain count (at least --history) and the byte bound', async () => {
    const info = await ensureStream(jsm, {
      history: 10,
      replicas: 1,
      retainPerSubject: 250,
      maxBytes: 64 * MiB,
    });
    expect(info.config.max_msgs_per_subject).toBe(250);
    expect(info.config.max_bytes).toBe(64 * MiB);
    const longHistory = await ensureStream(jsm, {
      history: 400,
      replicas: 1,
      retainPerSubject: 250,
    });
    expect(longHistory.config.max_msgs_per_subject).toBe(400);
  });

  test('an existing stream is raised to larger limits and never lowered', async () => {
    await ensureStream(jsm, { history: 10, replicas: 1, retainPerSubject: 100, maxBytes: 8 * MiB });
    const raised = await ensureStream(jsm, {
      history: 10,
      replicas: 1,
      retainPerSubject: 300,
      maxBytes: 32 * MiB,
    });
    expect([raised.config.max_msgs_per_subject, raised.config.max_bytes]).toEqual([300, 32 * MiB]);
    const kept = await ensureStream(jsm, {
      history: 10,
      replicas: 1,
      retainPerSubject: 50,
      maxBytes: 2 * MiB,
    });
    expect([kept.config.max_msgs_per_subject, kept.config.max_bytes]).toEqual([300, 32 * MiB]);
  });

  describe('a node started with --nats-retain and --nats-max-bytes', () => {
    let node: TestServer | undefined;

    afterAll(async () => {
      await node?.stop();
    });

    test('creates the stream with them', async () => {
      node = await startServer({ nats: nats.url, natsRetain: 777, natsMaxBytes: 48 * MiB });
      await waitFor(() => node?.server.ready === true, 'node ready', 10_000);
      const { config } = await jsm.streams.info(STREAM_NAME);
      expect([config.max_msgs_per_subject, config.max_bytes]).toEqual([777, 48 * MiB]);
    });
  });
});

describe('--nats-retain, --nats-max-bytes, --nats-max-pending', () => {
  function refusal(raw: Record<string, unknown>): string | undefined {
    try {
      buildConfig(raw);
    } catch (err) {
      if (err instanceof ConfigError) return err.code;
      throw err;
    }
    return undefined;
  }

  test('default to the bus constants', () => {
    const c = buildConfig({});
    expect([c.natsRetain, c.natsMaxBytes, c.natsMaxPending]).toEqual([
      RETAIN_PER_SUBJECT,
      STREAM_MAX_BYTES,
      MAX_PENDING_BYTES,
    ]);
  });

  test('are validated', () => {
    expect(refusal({ natsRetain: 0 })).toBe(ServerErrorCode.InvalidConfig);
    expect(refusal({ natsMaxBytes: 1024 })).toBe(ServerErrorCode.InvalidConfig);
    expect(refusal({ natsMaxPending: 'lots' })).toBe(ServerErrorCode.InvalidConfig);
    expect(buildConfig({ natsMaxPending: String(64 * MiB) }).natsMaxPending).toBe(64 * MiB);
  });
});
