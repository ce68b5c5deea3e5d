/**
 * Every field /stats returns is in the `/stats` section of docs/protocol.md:
 * each key of the live body (nested objects included) appears in the
 * documented example, and every field of `bus` in NATS mode is named there.
 * No sockets: the servers are built, never started (NATS is not contacted
 * before start()).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { TickwireServer } from '../../src/server/server.js';
import { ROOT } from '../helpers/process.js';

/** The `### \`/stats\`` section of docs/protocol.md, up to the next heading. */
function statsSection(): string {
  const doc = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8');
  const start = doc.indexOf('### `/stats`\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n### ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Dotted paths of every key in `v`, through objects (array items are not walked). */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  const out: string[] = [];
  for (const [k, child] of Object.entries(v)) {
    out.push(`${prefix}${k}`);
    out.push(...keyPaths(child, `${prefix}${k}.`));
  }
  return out;
}

function liveStats(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const server = new TickwireServer(
    buildConfig({ host: '127.0.0.1', port: 0, feedToken: 'stats-doc-token', ...extra }),
  );
  return server.stats() as unknown as Record<string, unknown>;
}

describe('/stats in docs/protocol.md', () => {
  const section = statsSection();
  const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)![1]!) as unknown;
  const documented = new Set(keyPaths(example));

  it('the example holds every field of the embedded-bus body, bus and pid included', () => {
    const live = liveStats();
    expect(live).toHaveProperty('bus');
    expect(live).toHaveProperty('pid');
    expect(keyPaths(live).filter((k) => !documented.has(k))).toEqual([]);
  });

  it('every field of `bus` in NATS mode is named in the section', () => {
    const bus = liveStats({ nats: 'nats://127.0.0.1:4222' }).bus as Record<string, unknown>;
    expect(bus.kind).toBe('nats');
    const missing = Object.keys(bus).filter((k) => !section.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });
});
