import { describe, expect, it } from 'vitest';
import { topSelf, type CpuProfile } from './suite.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

describe('npm run profile: self time from a .cpuprofile', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('process', 'file:///work/x/dist/src/pipeline/pipeline.js', 111) },
      { id: 4, callFrame: frame('publish', 'node:internal/foo', 9) },
      // The same function reached by another path: its samples add up.
      { id: 5, callFrame: frame('process', 'file:///work/x/dist/src/pipeline/pipeline.js', 111) },
    ],
    samples: [2, 2, 2, 2, 3, 3, 5, 4, 2, 2],
  };

  it('leaves idle samples out and merges the same function', () => {
    const top = topSelf(profile, 10);
    expect(top.map((t) => t.share)).toEqual([0.75, 0.25]);
    expect(top[0]?.name).toMatch(/^process .*pipeline\.js:112$/);
    expect(top[1]?.name).toBe('publish node:internal/foo:10');
  });

  it('returns at most n entries', () => {
    expect(topSelf(profile, 1)).toHaveLength(1);
  });
});
