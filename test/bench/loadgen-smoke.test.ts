/**
 * The native loader against the real server (functional, not a speed check):
 * 10 subscribers and an open-loop feed of 1,000 ticks/s for one second; every
 * tick reaches every subscriber, in order, and every delivery has a latency;
 * the server's CPU over the window is reported when its pid is given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_TOKEN, type TestServer, startServer } from '../helpers/server.js';
import { canBuild, runLoadgen } from './loadgen.js';

const ok = canBuild();

describe.skipIf(!ok)('loadgen against tickwire', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const run = (extra: (string | number)[], seconds = 1) =>
    runLoadgen(
      [
        'run',
        '--port',
        srv.port,
        '--subs',
        10,
        '--symbols',
        10,
        '--rate',
        1000,
        '--duration',
        seconds,
        '--feed-token',
        FEED_TOKEN,
        '--drain-ms',
        5000,
        ...extra,
      ],
      { timeoutMs: 15_000 },
    );

  it('delivers every single-tick frame to every MessagePack subscriber in order', async () => {
    // The server runs in this process: --server-pid reports its CPU over the window.
    const r = await run(['--server-pid', process.pid]);
    expect(r).toMatchObject({
      status: 'ok',
      connected: 10,
      sent_ticks: 1000,
      expected: 10_000,
      delivered: 10_000,
      order_errors: 0,
      parse_errors: 0,
      closed: 0,
      feed_error_replies: 0,
    });
    expect((r.latency_us as { count: number }).count).toBe(10_000);
    expect(r.server_cpu_s).toBeGreaterThanOrEqual(0);
    expect(typeof r.server_cpu_ns_per_delivery).toBe('number');
    expect(typeof r.loader_bound).toBe('boolean');
  });

  it('delivers batches of 10 to every JSON subscriber in order', async () => {
    const r = await run(['--format', 'json', '--batch', 10], 0.5);
    expect(r).toMatchObject({
      status: 'ok',
      format: 'json',
      sent_frames: 50,
      expected: 5000,
      delivered: 5000,
      order_errors: 0,
      parse_errors: 0,
    });
    expect((r.latency_us as { count: number }).count).toBe(5000);
  });

  it('waits for the last frame when the feed sends less often than the drain window', async () => {
    // One tick a second: the last one leaves 1 s after the previous delivery,
    // longer than --drain-ms; the drain's idle clock starts when the feed ends.
    const r = await run(['--rate', 1, '--drain-ms', 800], 3);
    expect(r).toMatchObject({
      status: 'ok',
      sent_ticks: 3,
      expected: 30,
      delivered: 30,
      order_errors: 0,
    });
  });
});
