/**
 * Pipeline.replay: the missed updates for a subscribe with `since`, or
 * undefined when a gap is no longer in history.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { pack, unpack } from '../helpers/clients.js';

const quiet: Publisher = { publish: () => undefined, subscribers: () => 0 };

function pipelineWith(history: number, ticks: { s: string; p: number }[]): Pipeline {
  const p = new Pipeline(quiet, { history });
  for (const t of ticks) p.process(pack(t), performance.now());
  return p;
}

const series = (s: string, count: number): { s: string; p: number }[] =>
  Array.from({ length: count }, (_, i) => ({ s, p: i + 1 }));

describe('Pipeline.replay', () => {
  it('returns the updates after `since`, in order, as one frame', () => {
    const p = pipelineWith(10, [...series('A', 5), ...series('B', 3)]);
    const frame = p.replay(['A', 'B'], false, { A: 2, B: 1 }, false) as Uint8Array;
    const out = unpack(frame) as { s: string; n: number; p: number }[];
    expect(out.map((u) => `${u.s}${u.n}`)).toEqual(['A3', 'A4', 'A5', 'B2', 'B3']);
    expect(out[0]!.p).toBe(3);
  });

  it('a symbol missing from since counts as none seen', () => {
    const p = pipelineWith(10, series('A', 2));
    const out = unpack(p.replay(['A'], false, {}, false) as Uint8Array) as { n: number }[];
    expect(out.map((u) => u.n)).toEqual([1, 2]);
  });

  it('one missed update is a map; JSON connections get JSON', () => {
    const p = pipelineWith(10, series('A', 3));
    expect(unpack(p.replay(['A'], false, { A: 2 }, false) as Uint8Array)).toMatchObject({
      s: 'A',
      n: 3,
    });
    const json = JSON.parse(p.replay(['A'], false, { A: 1 }, true) as string) as { n: number }[];
    expect(json.map((u) => u.n)).toEqual([2, 3]);
  });

  it('null when nothing was missed', () => {
    const p = pipelineWith(10, series('A', 3));
    expect(p.replay(['A', 'UNSEEN'], false, { A: 3 }, false)).toBeNull();
  });

  it('undefined when the gap is no longer in history', () => {
    const p = pipelineWith(3, series('A', 10));
    expect(p.replay(['A'], false, { A: 6 }, false)).toBeUndefined();
    expect(p.replay(['A'], false, { A: 7 }, false)).not.toBeUndefined();
  });

  it('undefined when the client is ahead of the server or knows a symbol the server does not', () => {
    const p = pipelineWith(10, series('A', 3));
    expect(p.replay(['A'], false, { A: 9 }, false)).toBeUndefined();
    expect(p.replay(['Z'], false, { Z: 4 }, false)).toBeUndefined();
  });

  it('"*" covers every known symbol', () => {
    const p = pipelineWith(10, [...series('A', 2), ...series('B', 2)]);
    const out = unpack(p.replay([], true, { A: 2 }, false) as Uint8Array) as { s: string }[];
    expect(out.map((u) => u.s)).toEqual(['B', 'B']);
  });

  it('undefined when the replay would exceed maxBytes', () => {
    const p = pipelineWith(100, series('A', 50));
    expect(p.replay(['A'], false, {}, false, 200)).toBeUndefined();
  });

  it('history 0 keeps the last value: only a gap of one recovers', () => {
    const p = pipelineWith(0, series('A', 4));
    expect(p.replay(['A'], false, { A: 3 }, false)).not.toBeUndefined();
    expect(p.replay(['A'], false, { A: 2 }, false)).toBeUndefined();
  });
});
