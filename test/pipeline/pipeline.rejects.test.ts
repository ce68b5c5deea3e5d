import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { FrameStatus, TickFault } from '../../src/protocol/tick-scanner.js';
import { StubPublisher, pack, type Update } from './stub-publisher.js';

function setup(options = {}) {
  const pub = new StubPublisher().subscribe(['m:*']);
  const pipeline = new Pipeline(pub, { coalesce: 'frame', ...options });
  const run = (value: unknown): number => pipeline.process(pack(value), performance.now());
  return { pub, pipeline, run };
}

const counters = (p: Pipeline) => ({ ...p.counters });

describe('Pipeline counters and rejects', () => {
  it('starts with every counter at zero', () => {
    const { pipeline } = setup();
    expect(counters(pipeline)).toEqual({
      ticksReceived: 0,
      ticksPublished: 0,
      ticksRejected: 0,
      framesReceived: 0,
      framesBad: 0,
    });
    expect(pipeline.rejectedIndices()).toEqual([]);
    expect(pipeline.firstFault()).toBe('');
  });

  it('counts a good frame', () => {
    const { pipeline, run } = setup();
    expect(run({ s: 'A', p: 1 })).toBe(FrameStatus.Ok);
    expect(counters(pipeline)).toEqual({
      ticksReceived: 1,
      ticksPublished: 1,
      ticksRejected: 0,
      framesReceived: 1,
      framesBad: 0,
    });
    expect(pipeline.accepted).toBe(1);
    expect(pipeline.rejected).toBe(0);
    expect(pipeline.rejectedIndices()).toEqual([]);
    expect(pipeline.firstFault()).toBe('');
  });

  it('counts a mixed batch and reports the invalid indices and faults', () => {
    const { pub, pipeline, run } = setup();
    const status = run([
      { s: 'A', p: 1 },
      { s: 'A' },
      { s: 'B', p: 2 },
      { s: 'C', p: 'x' },
      7,
      { s: 'D', p: 1, n: 1 },
      { s: 'E', p: 1, q: -1 },
    ]);
    expect(status).toBe(FrameStatus.Ok);
    expect(pipeline.accepted).toBe(2);
    expect(pipeline.rejected).toBe(5);
    expect(pipeline.rejectedIndices()).toEqual([1, 3, 4, 5, 6]);
    const fault = pipeline.scanner.fault;
    expect([1, 3, 4, 5, 6].map((i) => fault[i])).toEqual([
      TickFault.MissingPrice,
      TickFault.BadPrice,
      TickFault.NotAMap,
      TickFault.ReservedKey,
      TickFault.BadSize,
    ]);
    expect(pipeline.firstFault()).not.toBe('');
    expect(counters(pipeline)).toEqual({
      ticksReceived: 7,
      ticksPublished: 2,
      ticksRejected: 5,
      framesReceived: 1,
      framesBad: 0,
    });
    expect((pub.decoded('m:*')[0] as Update[]).map((u) => u.s)).toEqual(['A', 'B']);
  });

  it('reports index 0 for an invalid single-map frame', () => {
    const { pub, pipeline, run } = setup();
    expect(run({ s: 'A', p: Number.NaN })).toBe(FrameStatus.Ok);
    expect(pipeline.accepted).toBe(0);
    expect(pipeline.rejected).toBe(1);
    expect(pipeline.rejectedIndices()).toEqual([0]);
    expect(pipeline.scanner.fault[0]).toBe(TickFault.BadPrice);
    expect(pipeline.firstFault()).not.toBe('');
    expect(pub.published).toEqual([]);
  });

  it('lists only the first 16 of 40 invalid indices', () => {
    const { pipeline, run } = setup();
    const ticks = Array.from({ length: 50 }, (_, i) =>
      i % 5 === 0 ? { s: 'A', p: i } : { s: 'A' },
    );
    run(ticks);
    const bad = ticks.map((_, i) => i).filter((i) => i % 5 !== 0);
    expect(bad).toHaveLength(40);
    expect(pipeline.rejected).toBe(40);
    expect(pipeline.accepted).toBe(10);
    expect(pipeline.rejectedIndices()).toEqual(bad.slice(0, 16));
    expect(pipeline.counters.ticksRejected).toBe(40);
  });

  it('counts a bad frame and publishes nothing from it', () => {
    const { pub, pipeline } = setup();
    for (const frame of [
      Uint8Array.of(0xc1),
      Uint8Array.of(),
      pack('just a string'),
      pack(42),
      Uint8Array.of(0x92, 0x82, 0xa1, 0x73, 0xa1, 0x41, 0xa1, 0x70, 0x01), // truncated batch
      Uint8Array.from([...pack({ s: 'A', p: 1 }), 0x00]), // trailing byte
    ]) {
      expect(pipeline.process(frame, performance.now())).toBe(FrameStatus.BadFrame);
      expect(pipeline.accepted).toBe(0);
      expect(pipeline.rejected).toBe(0);
    }
    expect(counters(pipeline)).toEqual({
      ticksReceived: 0,
      ticksPublished: 0,
      ticksRejected: 0,
      framesReceived: 6,
      framesBad: 6,
    });
    expect(pub.published).toEqual([]);
    expect(pipeline.symbols.size).toBe(0);
  });

  it('counts a too-large batch as a bad frame and publishes nothing', () => {
    const { pub, pipeline } = setup();
    const frame = pack(Array.from({ length: 4097 }, () => ({ s: 'A', p: 1 })));
    expect(pipeline.process(frame, performance.now())).toBe(FrameStatus.TooLarge);
    expect(counters(pipeline)).toEqual({
      ticksReceived: 0,
      ticksPublished: 0,
      ticksRejected: 0,
      framesReceived: 1,
      framesBad: 1,
    });
    expect(pub.published).toEqual([]);
  });

  it('accumulates counters across good, mixed, bad and too-large frames', () => {
    const { pipeline, run } = setup();
    run({ s: 'A', p: 1 });
    run([{ s: 'A', p: 1 }, { s: 'A' }, { s: 'B', p: 2 }]);
    pipeline.process(Uint8Array.of(0xc1), performance.now());
    run(Array.from({ length: 5000 }, () => 1));
    run([]);
    run({ s: 'A' });
    expect(counters(pipeline)).toEqual({
      ticksReceived: 5,
      ticksPublished: 3,
      ticksRejected: 2,
      framesReceived: 6,
      framesBad: 2,
    });
  });

  it('resets accepted/rejected and the reported indices for every frame', () => {
    const { pipeline, run } = setup();
    run([{ s: 'A' }, { s: 'A', p: 1 }]);
    expect(pipeline.rejectedIndices()).toEqual([0]);
    run([
      { s: 'A', p: 1 },
      { s: 'A', p: 1 },
    ]);
    expect(pipeline.accepted).toBe(2);
    expect(pipeline.rejected).toBe(0);
    expect(pipeline.rejectedIndices()).toEqual([]);
    expect(pipeline.firstFault()).toBe('');
  });

  it('rejects ticks of new symbols when the symbol table is full, and publishes the rest', () => {
    const { pub, pipeline, run } = setup({ maxSymbols: 2 });
    run([
      { s: 'A', p: 1 },
      { s: 'B', p: 2 },
      { s: 'C', p: 3 },
      { s: 'A', p: 4 },
      { s: 'D', p: 5 },
    ]);
    expect(pipeline.accepted).toBe(3);
    expect(pipeline.rejected).toBe(2);
    expect(pipeline.rejectedIndices()).toEqual([2, 4]);
    expect(pipeline.scanner.fault[2]).toBe(TickFault.SymbolTableFull);
    expect(pipeline.scanner.fault[4]).toBe(TickFault.SymbolTableFull);
    expect(pipeline.firstFault()).not.toBe('');
    expect((pub.decoded('m:*')[0] as Update[]).map((u) => `${u.s}${u.n}`)).toEqual([
      'A1',
      'B1',
      'A2',
    ]);
    expect(pipeline.symbols.size).toBe(2);
    expect(pipeline.counters.ticksRejected).toBe(2);

    // Known symbols keep flowing; a lone new one is rejected alone.
    pub.clear();
    run({ s: 'C', p: 1 });
    expect(pipeline.accepted).toBe(0);
    expect(pipeline.rejectedIndices()).toEqual([0]);
    expect(pipeline.scanner.fault[0]).toBe(TickFault.SymbolTableFull);
    run({ s: 'B', p: 1 });
    expect(pipeline.accepted).toBe(1);
    expect(pipeline.rejectedIndices()).toEqual([]);
    expect((pub.decoded('m:*')[0] as Update).n).toBe(2);
  });

  it('uses 100,000 symbols by default', () => {
    const { pipeline } = setup();
    expect(pipeline.symbols.maxSymbols).toBe(100_000);
  });
});
