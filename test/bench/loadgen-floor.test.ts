/**
 * `loadgen floor`: the loopback ping-pong the benchmark quotes as its floor.
 * It reports every measured round trip, and with --gap-us sleeps between
 * round trips (the paced floor), which shows in its wall time: 60 sleeps of
 * 2 ms cannot take less than 0.12 s.
 */
import { describe, expect, it } from 'vitest';
import { canBuild, runLoadgen } from './loadgen.js';

const ok = canBuild();

interface FloorReport {
  mode: string;
  size: number;
  gap_us: number;
  rtt_us: { p50: number; p99: number; count: number; negative: number };
  wall_s: number;
}

describe.skipIf(!ok)('loadgen floor', () => {
  it('measures every round trip after the warm-up, back to back', async () => {
    const r = (await runLoadgen([
      'floor',
      '--count',
      500,
      '--warmup',
      20,
      '--size',
      64,
    ])) as unknown as FloorReport;
    expect(r).toMatchObject({ mode: 'floor', size: 64, gap_us: 0 });
    expect(r.rtt_us.count).toBe(500);
    expect(r.rtt_us.negative).toBe(0);
    expect(r.rtt_us.p50).toBeGreaterThan(0);
    expect(r.rtt_us.p99).toBeGreaterThanOrEqual(r.rtt_us.p50);
  });

  it('sleeps --gap-us between round trips', async () => {
    const r = (await runLoadgen([
      'floor',
      '--count',
      50,
      '--warmup',
      10,
      '--gap-us',
      2000,
    ])) as unknown as FloorReport;
    expect(r).toMatchObject({ mode: 'floor', gap_us: 2000 });
    expect(r.rtt_us.count).toBe(50);
    expect(r.wall_s).toBeGreaterThanOrEqual(0.12);
  });

  it('refuses a bad value with exit code 2', async () => {
    await expect(runLoadgen(['floor', '--gap-us', -1])).rejects.toThrow(/bad value for --gap-us/);
  });
});
