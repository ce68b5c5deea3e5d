/**
 * `--help` says what the options do: the lines a new user read and found
 * untrue (issue 15). Each help line is checked against the behaviour it
 * describes, which is exercised here or in the tests named below.
 */
import { describe, expect, it } from 'vitest';
import { helpText, parseCommandLine } from '../src/config.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { OriginPolicy } from '../src/server/origin.js';
import { StubPublisher } from './pipeline/stub-publisher.js';
import { pack } from './protocol/helpers.js';

/** The --help line of `--flag`. */
function helpLine(flag: string): string {
  const line = helpText()
    .split('\n')
    .find((l) => l.trimStart().startsWith(`--${flag} `) || l.trimStart() === `--${flag}`);
  if (line === undefined) throw new Error(`--help has no line for --${flag}`);
  return line;
}

describe('--help', () => {
  it('--history 0: keeps the last value (a gap of one still recovers), not "off"', () => {
    const { config } = parseCommandLine(['--history', '0'], {});
    const p = new Pipeline(new StubPublisher(), {
      maxSymbols: 10,
      latencyWindow: 16,
      history: config.history,
      historyBytes: config.historyBytes,
    });
    for (let i = 0; i < 3; i++) p.process(pack({ s: 'A', p: i + 1 }), 0);
    expect(p.replay(['A'], false, { A: 2 }, false)).not.toBeUndefined();
    expect(p.replay(['A'], false, { A: 1 }, false)).toBeUndefined();
    const line = helpLine('history');
    expect(line).toContain('last value');
    expect(line).not.toMatch(/\boff\b/);
  });

  it('--allowed-origins: covers /stream and /stats/stream, and allows handshakes without Origin', () => {
    const { config } = parseCommandLine(['--allowed-origins', 'https://app.example'], {});
    const policy = new OriginPolicy(config.allowedOrigins);
    expect(policy.allows('https://other.example')).toBe(false);
    expect(policy.allows('')).toBe(true); // no Origin header (stream-origin.test.ts: both routes)
    const line = helpLine('allowed-origins');
    expect(line).toContain('/stats/stream');
    expect(line).toMatch(/without (an )?Origin/);
  });

  it('--allow-uws-fallback: names UWS_USE_FALLBACK, which alone selects the JS emulation, and its HTTP-only mode', () => {
    // The loader (src/server/uws.ts) never falls back by itself; the process
    // test (process-lifecycle.test.ts) covers what the emulation serves.
    const line = helpLine('allow-uws-fallback');
    expect(line).toContain('UWS_USE_FALLBACK');
    expect(line).toContain('HTTP');
    expect(line).not.toMatch(/slow/);
  });
});
