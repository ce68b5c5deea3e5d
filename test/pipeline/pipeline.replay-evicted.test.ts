/**
 * Recovery after the history budget evicted updates: a `since` whose gap
 * reaches an evicted update is refused (undefined: the server answers
 * recovered:false with a snapshot), never answered with the updates that
 * are left, and a `since` within what is held replays exactly the gap.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { pack, unpack } from '../helpers/clients.js';

const quiet: Publisher = { publish: () => undefined, subscribers: () => 0 };

/** A tick of about `size` bytes (strings are at most 256 bytes: several keys). */
function tick(s: string, p: number, size: number): Uint8Array {
  const t: Record<string, unknown> = { s, p };
  for (let k = 0, left = size - 30; left > 0; k++, left -= 250)
    t[`x${k}`] = 'x'.repeat(Math.min(left, 240));
  return pack(t);
}

/** The n of each update in a replay (empty for null). */
function ns(frame: Uint8Array | string | null | undefined): number[] {
  if (frame === null) return [];
  const out = unpack(frame as Uint8Array) as { n: number } | { n: number }[];
  return Array.isArray(out) ? out.map((u) => u.n) : [out.n];
}

/** A pipeline where A's first updates were evicted by B's traffic. */
function evicted(size: number, budget: number): Pipeline {
  const p = new Pipeline(quiet, { history: 100, historyBytes: budget });
  for (let i = 1; i <= 64; i++) p.process(tick('A', i, size), performance.now());
  for (let i = 1; i <= 200; i++) p.process(tick('B', i, size), performance.now());
  return p;
}

describe.each([
  ['long updates (out of line, evicted one by one)', 2000, 150_000],
  ['short updates (in the ring, evicted by halving it)', 60, 24_000],
])('Pipeline.replay after eviction: %s', (_what, size, budget) => {
  it('evicted some of A but not all', () => {
    const p = evicted(size, budget);
    const a = p.symbols.get('A')!;
    expect(p.symbols.historyBudget.evicted).toBeGreaterThan(0);
    expect(a.history.first).toBeGreaterThan(1);
    expect(a.history.lastSeq).toBe(64);
  });

  it('every since either replays exactly the gap or is refused', () => {
    const p = evicted(size, budget);
    const first = p.symbols.get('A')!.history.first;
    for (let since = 0; since <= 64; since++) {
      const frame = p.replay(['A'], false, { A: since }, false);
      if (since + 1 < first) {
        expect(frame, `since ${since}`).toBeUndefined();
      } else {
        expect(ns(frame), `since ${since}`).toEqual(
          Array.from({ length: 64 - since }, (_, i) => since + 1 + i),
        );
      }
    }
  });

  it('an evicted gap in one symbol refuses the whole replay, even when the others are held', () => {
    const p = evicted(size, budget);
    const b = p.symbols.get('B')!.history;
    expect(p.replay(['A', 'B'], false, { A: 0, B: b.first }, false)).toBeUndefined();
    expect(p.replay([], true, { A: 0, B: 200 }, false)).toBeUndefined();
    expect(p.replay(['A'], false, { A: 0 }, true)).toBeUndefined();
  });
});
