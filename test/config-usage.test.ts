/**
 * `--help` names the documented way to run the server: the `tickwire` bin
 * (or `node dist/src/main.js` from a clone), not `npm start` (docs/deploy.md,
 * "The process": npm as the parent keeps signals from the server).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helpText } from '../src/config.js';

describe('--help usage line', () => {
  it('names the tickwire bin and node dist/src/main.js, not npm start', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(Object.keys(pkg.bin)).toContain('tickwire');
    const text = helpText();
    expect(text.split('\n')[0]).toMatch(/^Usage: tickwire \[options\]/);
    expect(text).toContain('node dist/src/main.js [options]');
    expect(text).not.toContain('npm start');
  });
});
