import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM helper of the benchmark, no type declarations
import { failed, fmtInt, fmtNum, perCpu, ratio, table } from '../../bench/e2e/format.mjs';

const ok = { lost: 0, reordered: 0, duplicates: 0, delivered: 1000, cpu_s: 0.5 };

describe('bench/e2e/format.mjs', () => {
  it('formats integers and numbers, n/a for missing or non-finite values', () => {
    expect(fmtInt(1234567.4)).toBe('1,234,567');
    expect(fmtInt(null)).toBe('n/a');
    expect(fmtInt(undefined)).toBe('n/a');
    expect(fmtInt(NaN)).toBe('n/a');
    expect(fmtNum(1.25, 1)).toBe('1.3');
    expect(fmtNum(Infinity)).toBe('n/a');
  });

  it('a run that lost, reordered, duplicated or errored has failed', () => {
    expect(failed(ok)).toBe(false);
    expect(failed({ ...ok, lost: 1 })).toBe(true);
    expect(failed({ ...ok, lost: -1 })).toBe(true); // more delivered than expected
    expect(failed({ ...ok, reordered: 1 })).toBe(true);
    expect(failed({ ...ok, duplicates: 2 })).toBe(true);
    expect(failed({ ...ok, error: 'server exited 1' })).toBe(true);
  });

  it('ratios and deliveries per CPU second, n/a when undefined', () => {
    expect(ratio(3, 2)).toBe('1.50×');
    expect(ratio(1, 0)).toBe('n/a');
    expect(ratio(NaN, 2)).toBe('n/a');
    expect(perCpu(ok)).toBe(2000);
    expect(perCpu({ ...ok, cpu_s: 0 })).toBeNaN();
  });

  it('renders a Markdown table', () => {
    expect(table(['a', 'b'], [['1', '2']])).toBe('| a | b |\n|---|---|\n| 1 | 2 |');
  });
});
