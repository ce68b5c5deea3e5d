/**
 * fitToDescriptors: the connection limits against the open-file limit, with
 * the limits read and raised by fakes (the process-level behaviour is in
 * process-fd-limit.test.ts).
 */
import { describe, expect, test } from 'vitest';
import {
  type DescriptorLimits,
  type DescriptorOps,
  FD_RESERVE,
  fitToDescriptors,
  parseDescriptorLimits,
} from '../../src/server/fd-limit.js';

const DEFAULTS = { maxConnections: 10_000, maxConnectionsPerIp: 1000 };

/** Fake limits; `raises` says whether a raise takes effect. */
function fake(
  start: DescriptorLimits | undefined,
  raises = true,
): DescriptorOps & { raisedTo: number[] } {
  let now = start;
  const raisedTo: number[] = [];
  return {
    raisedTo,
    read: () => now,
    raise(to, hard) {
      raisedTo.push(to);
      if (raises && now !== undefined) now = { soft: to, hard };
      return raises;
    },
  };
}

describe('parseDescriptorLimits', () => {
  test('reads the "Max open files" line of /proc/PID/limits', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             63704                63704                processes \n' +
      'Max open files            1024                 524288               files     \n';
    expect(parseDescriptorLimits(text)).toEqual({ soft: 1024, hard: 524288 });
  });

  test('"unlimited" is Infinity; a text without the line is undefined', () => {
    expect(parseDescriptorLimits('Max open files  unlimited  unlimited  files')).toEqual({
      soft: Infinity,
      hard: Infinity,
    });
    expect(parseDescriptorLimits('Max processes 1 1 processes')).toBeUndefined();
  });
});

describe('fitToDescriptors', () => {
  test('limits that fit: unchanged, nothing said, nothing raised', () => {
    const ops = fake({ soft: 65_536, hard: 65_536 });
    expect(fitToDescriptors(DEFAULTS, FD_RESERVE, ops)).toEqual({
      ...DEFAULTS,
      soft: 65_536,
      message: undefined,
    });
    expect(ops.raisedTo).toEqual([]);
  });

  test('soft and hard 1024: lowered to 1024 - 64, the per-address limit with it, in one message', () => {
    const fit = fitToDescriptors(DEFAULTS, FD_RESERVE, fake({ soft: 1024, hard: 1024 }));
    expect(fit).toMatchObject({ maxConnections: 960, maxConnectionsPerIp: 960, soft: 1024 });
    expect(fit.message).toMatch(/open-file limit 1024 \(hard 1024\)/);
    expect(fit.message).toMatch(/from 10000 to 960 and --max-connections-per-ip from 1000 to 960/);
    expect(fit.message).not.toContain('\n');
  });

  test('a soft limit below the hard one is raised first, and the limits fitted to the new one', () => {
    const ops = fake({ soft: 1024, hard: 524_288 });
    const fit = fitToDescriptors(DEFAULTS, FD_RESERVE, ops);
    expect(ops.raisedTo).toEqual([524_288]);
    expect(fit).toEqual({ ...DEFAULTS, soft: 524_288, message: fit.message });
    expect(fit.message).toMatch(/soft limit raised from 1024 to 524288/);
  });

  test('raised but still short: one message says both', () => {
    const fit = fitToDescriptors(DEFAULTS, FD_RESERVE, fake({ soft: 256, hard: 4096 }));
    expect(fit).toMatchObject({ maxConnections: 4032, maxConnectionsPerIp: 1000, soft: 4096 });
    expect(fit.message).toMatch(/raised from 256 to 4096.*lowered from 10000 to 4032/);
  });

  test('the raise fails (no prlimit, refused): fitted to the soft limit as it is', () => {
    const ops = fake({ soft: 256, hard: 4096 }, false);
    const fit = fitToDescriptors(DEFAULTS, FD_RESERVE, ops);
    expect(ops.raisedTo).toEqual([4096]);
    expect(fit).toMatchObject({ maxConnections: 192, maxConnectionsPerIp: 192, soft: 256 });
    expect(fit.message).not.toMatch(/raised/);
  });

  test('unlimited connections (0) get the room there is; a per-address 0 stays 0', () => {
    const fit = fitToDescriptors(
      { maxConnections: 0, maxConnectionsPerIp: 0 },
      FD_RESERVE,
      fake({ soft: 512, hard: 512 }),
    );
    expect(fit).toMatchObject({ maxConnections: 448, maxConnectionsPerIp: 0 });
    expect(fit.message).toMatch(/from unlimited to 448/);
  });

  test('an unlimited descriptor limit changes nothing', () => {
    const limits = { maxConnections: 0, maxConnectionsPerIp: 0 };
    expect(fitToDescriptors(limits, FD_RESERVE, fake({ soft: Infinity, hard: Infinity }))).toEqual({
      ...limits,
      soft: Infinity,
      message: undefined,
    });
  });

  test('a reserve at or above the limit still leaves one connection', () => {
    const fit = fitToDescriptors(DEFAULTS, 100, fake({ soft: 64, hard: 64 }));
    expect(fit).toMatchObject({ maxConnections: 1, maxConnectionsPerIp: 1 });
  });

  test('no /proc/self/limits (not Linux): unchanged, and one line says it was not checked', () => {
    const fit = fitToDescriptors(DEFAULTS, FD_RESERVE, fake(undefined));
    expect(fit).toMatchObject({ ...DEFAULTS, soft: undefined });
    expect(fit.message).toMatch(/not checked/);
  });
});
