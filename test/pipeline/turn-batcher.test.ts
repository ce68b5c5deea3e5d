/**
 * Embedded mode (coalesce "turn", the default): the updates of every feed
 * frame processed in one event-loop turn go out at the end of the turn as one
 * frame per topic; per-symbol order and numbering hold; a topic with one
 * update gets a map; latency is recorded when the frames are published.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { MAX_TURN_FRAME, MAX_TURN_HELD } from '../../src/pipeline/turn-batcher.js';
import { StubPublisher, pack, type Update } from './stub-publisher.js';

const turnEnd = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(topics: readonly string[]) {
  const pub = new StubPublisher().subscribe(topics);
  const pipeline = new Pipeline(pub);
  const run = (value: unknown, entryMs = performance.now()): number =>
    pipeline.process(pack(value), entryMs);
  return { pub, pipeline, run };
}

describe('turn coalescing (embedded mode)', () => {
  it('publishes nothing until the turn ends, then one frame per topic', async () => {
    const { pub, run } = setup(['m:*', 'm:A', 'm:B', 'j:A', 'j:*']);
    run({ s: 'A', p: 1 });
    run({ s: 'B', p: 2 });
    run([
      { s: 'A', p: 3 },
      { s: 'A', p: 4 },
    ]);
    expect(pub.published).toEqual([]);
    await turnEnd();
    expect(pub.on('m:*')).toHaveLength(1);
    expect(pub.on('m:A')).toHaveLength(1);
    expect(pub.on('m:B')).toHaveLength(1);
    expect(pub.on('j:A')).toHaveLength(1);
    expect(pub.on('j:*')).toHaveLength(1);
    const all = pub.updates('m:*') as Update[];
    expect(all.map((u) => [u.s, u.n, u.p])).toEqual([
      ['A', 1, 1],
      ['B', 1, 2],
      ['A', 2, 3],
      ['A', 3, 4],
    ]);
    expect((pub.updates('m:A') as Update[]).map((u) => u.n)).toEqual([1, 2, 3]);
    // A topic with one update this turn gets it as a map.
    expect(pub.decoded('m:B')).toEqual([all[1]]);
    // The JSON topics carry the same updates.
    expect(pub.updates('j:A')).toEqual(pub.updates('m:A'));
    expect(pub.updates('j:*')).toEqual(all);
  });

  it('starts over after each turn', async () => {
    const { pub, run } = setup(['m:*', 'm:A']);
    run({ s: 'A', p: 1 });
    await turnEnd();
    run({ s: 'A', p: 2 });
    run({ s: 'A', p: 3 });
    await turnEnd();
    expect(pub.decoded('m:A').map((f) => (Array.isArray(f) ? f.length : 'map'))).toEqual([
      'map',
      2,
    ]);
    expect((pub.updates('m:*') as Update[]).map((u) => u.n)).toEqual([1, 2, 3]);
  });

  it('keeps per-symbol order for many interleaved symbols across frames (property of the chains)', async () => {
    const names = ['A', 'B', 'C', 'D', 'E'];
    const { pub, run } = setup(['m:*', ...names.map((s) => `m:${s}`)]);
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const sent: string[] = [];
    for (let f = 0; f < 200; f++) {
      const len = 1 + (next() % 6);
      const ticks = Array.from({ length: len }, () => ({ s: names[next() % 5]!, p: f }));
      for (const t of ticks) sent.push(t.s);
      run(ticks.length === 1 ? ticks[0] : ticks);
    }
    await turnEnd();
    expect((pub.updates('m:*') as Update[]).map((u) => u.s)).toEqual(sent);
    for (const s of names) {
      expect(pub.on(`m:${s}`)).toHaveLength(1);
      const ns = (pub.updates(`m:${s}`) as Update[]).map((u) => u.n);
      expect(ns).toEqual(
        Array.from({ length: sent.filter((x) => x === s).length }, (_, i) => i + 1),
      );
    }
  });

  it('a flush (snapshot, replay) publishes what is held at once', () => {
    const { pub, pipeline, run } = setup(['m:A']);
    run({ s: 'A', p: 1 });
    run({ s: 'A', p: 2 });
    pipeline.snapshot(['A'], false, false);
    expect(pub.updates('m:A')).toHaveLength(2);
    pipeline.flush();
    expect(pub.on('m:A')).toHaveLength(1);
  });

  it('splits a topic frame that would grow past MAX_TURN_FRAME, in order', async () => {
    const { pub, run } = setup(['m:*', 'm:A']);
    const pad = 'x'.repeat(200);
    const perFrame = 100;
    const frames = Math.ceil((MAX_TURN_FRAME * 1.5) / (perFrame * 200));
    for (let f = 0; f < frames; f++)
      run(Array.from({ length: perFrame }, (_, i) => ({ s: 'A', p: f * perFrame + i, pad })));
    await turnEnd();
    for (const topic of ['m:*', 'm:A']) {
      const sizes = pub.on(topic).map((p) => (p.message as Uint8Array).length);
      expect(sizes.length).toBeGreaterThan(1);
      for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_TURN_FRAME + 16);
      const ns = (pub.updates(topic) as Update[]).map((u) => u.n);
      expect(ns).toEqual(Array.from({ length: frames * perFrame }, (_, i) => i + 1));
    }
  });

  it('records latency when the turn is published, not when the frame is processed', async () => {
    const { pipeline, run } = setup(['m:*']);
    run({ s: 'A', p: 1 }, performance.now() - 5);
    run([
      { s: 'A', p: 2 },
      { s: 'A', p: 3 },
    ]);
    expect(pipeline.latency.summary().samples).toBe(0);
    await turnEnd();
    const h = pipeline.latency.summary();
    expect(h.samples).toBe(3);
    expect(h.max).toBeGreaterThanOrEqual(5000);
  });

  it('records latency for frames nobody subscribes to as well', async () => {
    const { pipeline, run } = setup([]);
    run({ s: 'A', p: 1 });
    await turnEnd();
    expect(pipeline.latency.summary().samples).toBe(1);
  });

  it('coalesce "frame" publishes each frame as it is processed', () => {
    const pub = new StubPublisher().subscribe(['m:*', 'm:A']);
    const pipeline = new Pipeline(pub, { coalesce: 'frame' });
    pipeline.process(pack({ s: 'A', p: 1 }), performance.now());
    expect(pub.on('m:*')).toHaveLength(1);
    pipeline.process(pack({ s: 'A', p: 2 }), performance.now());
    expect(pub.on('m:A')).toHaveLength(2);
    expect(pipeline.latency.summary().samples).toBe(2);
  });
});

describe('turn coalescing bounds', () => {
  it('publishes everything held past MAX_TURN_HELD bytes of named topics, losing nothing', async () => {
    // 3000 symbols, each far under MAX_TURN_FRAME: only the total bound applies.
    const names = Array.from({ length: 3000 }, (_, i) => `S${i}`);
    const { pub, run } = setup(names.map((s) => `m:${s}`));
    const pad = 'x'.repeat(250);
    const perFrame = 100;
    let ticks = 0;
    let before = 0;
    for (let f = 0; ticks * 250 < MAX_TURN_HELD * 1.5; f++) {
      run(
        Array.from({ length: perFrame }, (_, i) => ({
          s: names[(f * perFrame + i) % names.length]!,
          p: i,
          pad,
        })),
      );
      ticks += perFrame;
      before = pub.published.length;
    }
    // Some went out before the turn ended (the bound), the rest at its end.
    expect(before).toBeGreaterThan(0);
    await turnEnd();
    let total = 0;
    for (const s of names) {
      const ns = (pub.updates(`m:${s}`) as Update[]).map((u) => u.n);
      expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
      total += ns.length;
    }
    expect(total).toBe(ticks);
  });
});

describe('a bound tripped in the middle of a frame', () => {
  // The pipeline stores an update before it hands it over; with history 0
  // the entry's slot is reused, so a flush a bound forces then must send the
  // held single update from its staged copy, not from the view handed in
  // (which holds the newer update by then).
  const xs = (pub: StubPublisher, topic: string): number[] =>
    (pub.updates(topic) as Update[]).filter((u) => u.s === 'X').map((u) => u.n);

  it('"*": a single held update stays itself when a large frame flushes the turn', async () => {
    for (const history of [0, 1, 100]) {
      const pub = new StubPublisher().subscribe(['m:*']);
      const pipeline = new Pipeline(pub, { history });
      pipeline.process(pack({ s: 'X', p: 1 }), performance.now());
      const ticks: object[] = [{ s: 'X', p: 2 }];
      while (ticks.length < 3000) ticks.push({ s: 'FILL', p: 3, c: 'y'.repeat(80) });
      pipeline.process(pack(ticks), performance.now());
      await turnEnd();
      expect(xs(pub, 'm:*')).toEqual([1, 2]);
    }
  });

  it('a named topic: its single held update stays itself when the held bound trips on its next one', async () => {
    // Names of one length: every fill update has the same size.
    const fill = Array.from({ length: 100 }, (_, i) => `F${String(i).padStart(2, '0')}`);
    const pub = new StubPublisher().subscribe(['m:X', ...fill.map((s) => `m:${s}`)]);
    const pipeline = new Pipeline(pub, { history: 0 });
    const x = (p: number) => ({ s: 'X', p, c: 'x'.repeat(60) });
    // The updates' lengths, from a turn of their own.
    pipeline.process(pack(x(0)), performance.now());
    pipeline.process(pack({ s: 'F00', p: 0 }), performance.now());
    await turnEnd();
    const lx = (pub.on('m:X')[0]!.message as Uint8Array).length;
    const lf = (pub.on('m:F00')[0]!.message as Uint8Array).length;
    expect(lx).toBeGreaterThan(lf);
    pub.clear();
    // X held once, then fill up to just under the bound: X's next update trips it.
    pipeline.process(pack(x(1)), performance.now());
    const count = Math.floor((MAX_TURN_HELD - lx) / lf);
    for (let done = 0; done < count;) {
      const k = Math.min(1000, count - done);
      pipeline.process(
        pack(Array.from({ length: k }, (_, i) => ({ s: fill[(done + i) % 100]!, p: 0 }))),
        performance.now(),
      );
      done += k;
    }
    expect(pub.published).toEqual([]);
    pipeline.process(pack(x(2)), performance.now());
    expect(pub.published.length).toBeGreaterThan(0);
    await turnEnd();
    expect((pub.updates('m:X') as Update[]).map((u) => [u.n, u.p])).toEqual([
      [2, 1],
      [3, 2],
    ]);
  });
});
