/**
 * The numbering identity of a journal: its epoch after clean stops, then
 * EPOCH-G after the G-th unclean one, always a server epoch (at most 31
 * characters of [A-Za-z0-9-]) however long the journal's own epoch is
 * (a recording's, say, which may already carry a generation).
 */
import { describe, expect, it } from 'vitest';
import { isServerEpoch } from '../../src/pipeline/epoch.js';
import { epochOf } from '../../src/server/journal-link.js';

describe('epochOf', () => {
  it('is the journal epoch at generation 0 and EPOCH-G after', () => {
    expect(epochOf('9f2c41d07a6be315', 0)).toBe('9f2c41d07a6be315');
    expect(epochOf('9f2c41d07a6be315', 3)).toBe('9f2c41d07a6be315-3');
  });

  it('stays a server epoch when the journal epoch is long, and differs per generation', () => {
    const long = '9f2c41d07a6be315-1765000000'; // 27 characters
    const a = epochOf(long, 1765000123);
    const b = epochOf(long, 1765000124);
    for (const e of [a, b, epochOf('x'.repeat(31), 0), epochOf('y'.repeat(31), 12)]) {
      expect(isServerEpoch(e)).toBe(true);
    }
    expect(a).not.toBe(b);
  });
});
