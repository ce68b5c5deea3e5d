import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { StubPublisher, pack, type Update } from './stub-publisher.js';

const SYMBOLS = ['A', 'B', 'C', 'BTC-USD'];

function setup() {
  const pub = new StubPublisher().subscribe(['m:*', ...SYMBOLS.map((s) => `m:${s}`)]);
  const pipeline = new Pipeline(pub, { coalesce: 'frame' });
  const run = (value: unknown): number => pipeline.process(pack(value), performance.now());
  return { pub, pipeline, run };
}

/** All updates published on m:*, flattened, in publish order. */
function wildcardUpdates(pub: StubPublisher): Update[] {
  return pub.decoded('m:*').flatMap((f) => (Array.isArray(f) ? (f as Update[]) : [f as Update]));
}

describe('Pipeline sequence numbers', () => {
  it('numbers each symbol 1, 2, 3, … across frames', () => {
    const { pub, run } = setup();
    run({ s: 'A', p: 1 });
    run([
      { s: 'B', p: 1 },
      { s: 'A', p: 2 },
    ]);
    run({ s: 'A', p: 3 });
    run([
      { s: 'B', p: 2 },
      { s: 'B', p: 3 },
      { s: 'C', p: 1 },
    ]);
    expect((pub.updates('m:A') as Update[]).map((u) => u.n)).toEqual([1, 2, 3]);
    expect((pub.updates('m:B') as Update[]).map((u) => u.n)).toEqual([1, 2, 3]);
    expect((pub.updates('m:C') as Update[]).map((u) => u.n)).toEqual([1]);
    expect(wildcardUpdates(pub).map((u) => `${u.s}${u.n}`)).toEqual([
      'A1',
      'B1',
      'A2',
      'A3',
      'B2',
      'B3',
      'C1',
    ]);
  });

  it('gives invalid ticks no number', () => {
    const { pub, pipeline, run } = setup();
    run([{ s: 'A', p: 1 }, { s: 'A' }, { s: 'A', p: 'x' }, { s: 'A', p: 2 }]);
    run({ s: 'A', p: 1, n: 5 });
    run({ s: 'A', p: 3 });
    expect((pub.updates('m:A') as Update[]).map((u) => u.n)).toEqual([1, 2, 3]);
    expect(pipeline.symbols.get('A')!.seq).toBe(3);
  });

  it('does not number ticks of bad frames', () => {
    const { pub, pipeline, run } = setup();
    run({ s: 'A', p: 1 });
    pipeline.process(Uint8Array.of(0xc1), performance.now());
    // A truncated batch: the valid first tick must not consume a number either.
    const truncated = pack([
      { s: 'A', p: 2 },
      { s: 'A', p: 3 },
    ]);
    pipeline.process(truncated.subarray(0, truncated.length - 1), performance.now());
    run({ s: 'A', p: 4 });
    expect((pub.updates('m:A') as Update[]).map((u) => [u.p, u.n])).toEqual([
      [1, 1],
      [4, 2],
    ]);
  });

  it('numbers every symbol without gaps for any mix of frames (property)', () => {
    const tickArb = fc.oneof(
      { weight: 4, arbitrary: fc.record({ s: fc.constantFrom(...SYMBOLS), p: fc.integer() }) },
      // invalid: missing price, bad symbol, reserved key, not a map
      { weight: 1, arbitrary: fc.record({ s: fc.constantFrom(...SYMBOLS) }) },
      { weight: 1, arbitrary: fc.record({ s: fc.constant('bad sym'), p: fc.integer() }) },
      {
        weight: 1,
        arbitrary: fc.record({ s: fc.constantFrom(...SYMBOLS), p: fc.integer(), r: fc.nat() }),
      },
      { weight: 1, arbitrary: fc.integer() },
    );
    const frameArb = fc.oneof(tickArb, fc.array(tickArb, { maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 30 }), (frames) => {
        const { pub, pipeline, run } = setup();
        const model = new Map<string, number>();
        const expected: string[] = [];
        for (const f of frames) {
          const ticks = Array.isArray(f) ? f : [f];
          for (const t of ticks) {
            if (typeof t !== 'object' || t === null) continue;
            const tick = t as Record<string, unknown>;
            if (!('p' in tick) || 'r' in tick || tick.s === 'bad sym') continue;
            const s = tick.s as string;
            const n = (model.get(s) ?? 0) + 1;
            model.set(s, n);
            expected.push(`${s}#${n}`);
          }
          run(f);
        }
        expect(wildcardUpdates(pub).map((u) => `${u.s}#${u.n}`)).toEqual(expected);
        for (const s of SYMBOLS) {
          const ns = (pub.updates(`m:${s}`) as Update[]).map((u) => u.n);
          expect(ns).toEqual(Array.from({ length: model.get(s) ?? 0 }, (_, i) => i + 1));
          expect(pipeline.symbols.get(s)?.seq ?? 0).toBe(model.get(s) ?? 0);
        }
      }),
      { numRuns: 150 },
    );
  });
});
