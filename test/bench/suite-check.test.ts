import { describe, expect, it } from 'vitest';
import { TOLERANCE, verdict } from './suite.js';

describe('bench:check verdict', () => {
  it('allows up to 25% worse than the baseline ratio and no more', () => {
    expect(TOLERANCE).toBe(0.25);
    expect(verdict(1.25, 1.0).ok).toBe(true);
    expect(verdict(1.2501, 1.0).ok).toBe(false);
    expect(verdict(0.5, 1.0).ok).toBe(true);
  });

  it('reports the change against the baseline and the limit', () => {
    const v = verdict(1.5, 1.2);
    expect(v.change).toBeCloseTo(0.25, 10);
    expect(v.limit).toBeCloseTo(1.5, 10);
    expect(v.ok).toBe(true);
  });
});
