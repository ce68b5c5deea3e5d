import { describe, expect, it } from 'vitest';
import { snapshotPrefix } from '../../src/pipeline/epoch.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { StubPublisher, decode, pack, type Update } from './stub-publisher.js';

interface SnapshotReply {
  op: string;
  ticks: Update[];
}

function setup() {
  const pub = new StubPublisher().subscribe(['m:A', 'm:B', 'm:C', 'm:*']);
  const pipeline = new Pipeline(pub, { coalesce: 'frame' });
  const run = (value: unknown): number => pipeline.process(pack(value), performance.now());
  return { pub, pipeline, run };
}

function msgpackSnapshot(pipeline: Pipeline, names: string[], all = false): SnapshotReply {
  const out = pipeline.snapshot(names, all, false);
  expect(out).toBeInstanceOf(Uint8Array);
  return decode(out as Uint8Array) as SnapshotReply;
}

function jsonSnapshot(pipeline: Pipeline, names: string[], all = false): SnapshotReply {
  const out = pipeline.snapshot(names, all, true);
  expect(typeof out).toBe('string');
  return JSON.parse(out as string) as SnapshotReply;
}

/** Last update published on m:SYM. */
const lastOf = (pub: StubPublisher, s: string): Update => pub.updates(`m:${s}`).at(-1) as Update;

describe('Pipeline.snapshot', () => {
  it('is an empty list before any tick', () => {
    const { pipeline } = setup();
    expect(msgpackSnapshot(pipeline, ['A'])).toEqual({
      op: 'snapshot',
      epoch: expect.any(String),
      ticks: [],
    });
    expect(msgpackSnapshot(pipeline, [], true)).toEqual({
      op: 'snapshot',
      epoch: expect.any(String),
      ticks: [],
    });
    expect(jsonSnapshot(pipeline, ['A'])).toEqual({
      op: 'snapshot',
      epoch: expect.any(String),
      ticks: [],
    });
  });

  it('starts with a fixmap {op:"snapshot", epoch, ticks:[…]} with op first', () => {
    const { pipeline, run } = setup();
    run({ s: 'A', p: 1 });
    const out = pipeline.snapshot(['A'], false, false) as Uint8Array;
    expect(out[0]).toBe(0x83);
    const reply = decode(out) as SnapshotReply;
    expect(Object.keys(reply)).toEqual(['op', 'epoch', 'ticks']);
  });

  it('holds the last update of each requested symbol, in request order', () => {
    const { pub, pipeline, run } = setup();
    run([
      { s: 'A', p: 1 },
      { s: 'B', p: 10 },
      { s: 'A', p: 2, extra: 'x' },
    ]);
    run({ s: 'C', p: 100 });
    run({ s: 'B', p: 11 });
    const reply = msgpackSnapshot(pipeline, ['C', 'A', 'B']);
    expect(reply.op).toBe('snapshot');
    expect(reply.ticks).toEqual([lastOf(pub, 'C'), lastOf(pub, 'A'), lastOf(pub, 'B')]);
    expect(reply.ticks.map((u) => [u.s, u.p, u.n])).toEqual([
      ['C', 100, 1],
      ['A', 2, 2],
      ['B', 11, 2],
    ]);
    expect(reply.ticks[1]!.extra).toBe('x');
  });

  it('copies the cached update bytes verbatim', () => {
    const { pub, pipeline, run } = setup();
    run({ s: 'A', p: 1.25, q: 3 });
    const published = Array.from(pub.on('m:A')[0]!.message as Uint8Array);
    const out = Array.from(pipeline.snapshot(['A'], false, false) as Uint8Array);
    // prefix + fixarray(1) + the update
    const at = snapshotPrefix(pipeline.epoch).length;
    expect(out.slice(at + 1)).toEqual(published);
    expect(out[at]).toBe(0x91);
  });

  it('skips unknown symbols', () => {
    const { pipeline, run } = setup();
    run({ s: 'A', p: 1 });
    const reply = msgpackSnapshot(pipeline, ['NOPE', 'A', 'ALSO-NOPE']);
    expect(reply.ticks.map((u) => u.s)).toEqual(['A']);
  });

  it('skips symbols whose ticks were all rejected', () => {
    const { pipeline, run } = setup();
    run([{ s: 'A' }, { s: 'B', p: 1 }]);
    expect(msgpackSnapshot(pipeline, ['A', 'B']).ticks.map((u) => u.s)).toEqual(['B']);
  });

  it('with `all`, lists every symbol in first-seen order and ignores names', () => {
    const { pub, pipeline, run } = setup();
    run([
      { s: 'C', p: 1 },
      { s: 'A', p: 1 },
    ]);
    run({ s: 'B', p: 1 });
    run({ s: 'C', p: 2 });
    const reply = msgpackSnapshot(pipeline, ['B'], true);
    expect(reply.ticks.map((u) => u.s)).toEqual(['C', 'A', 'B']);
    expect(reply.ticks).toEqual([lastOf(pub, 'C'), lastOf(pub, 'A'), lastOf(pub, 'B')]);
  });

  it('uses an array16 header for 16 or more ticks', () => {
    const { pipeline, run } = setup();
    const names = Array.from({ length: 300 }, (_, i) => `S${i}`);
    run(names.map((s, i) => ({ s, p: i })));
    const out = pipeline.snapshot(names, false, false) as Uint8Array;
    const at = snapshotPrefix(pipeline.epoch).length;
    expect(Array.from(out.subarray(at, at + 3))).toEqual([0xdc, 300 >> 8, 300 & 0xff]);
    const reply = decode(out) as SnapshotReply;
    expect(reply.ticks.map((u) => u.s)).toEqual(names);
    expect(msgpackSnapshot(pipeline, [], true).ticks).toHaveLength(300);
  });

  it('uses an array32 header for 65,536 or more ticks', () => {
    const pipeline = new Pipeline(new StubPublisher(), { coalesce: 'frame' });
    const total = 65_540;
    for (let base = 0; base < total; base += 4096) {
      const n = Math.min(4096, total - base);
      pipeline.process(
        pack(Array.from({ length: n }, (_, i) => ({ s: `S${base + i}`, p: 1 }))),
        performance.now(),
      );
    }
    expect(pipeline.symbols.size).toBe(total);
    const out = pipeline.snapshot([], true, false) as Uint8Array;
    expect(out[snapshotPrefix(pipeline.epoch).length]).toBe(0xdd);
    const reply = decode(out) as SnapshotReply;
    expect(reply.ticks).toHaveLength(total);
    expect(reply.ticks[total - 1]!.s).toBe(`S${total - 1}`);
  });

  it('JSON variant parses to the same value as the MessagePack one', () => {
    const { pipeline, run } = setup();
    run([
      { s: 'A', p: 1.5, q: 2, t: 1_700_000_000_000_000, note: 'hi', ok: true, nil: null },
      { s: 'B', p: -3 },
    ]);
    run({ s: 'A', p: 2 });
    for (const [names, all] of [
      [['B', 'A', 'X'], false],
      [[], true],
      [['X'], false],
    ] as const) {
      expect(jsonSnapshot(pipeline, [...names], all)).toEqual(
        msgpackSnapshot(pipeline, [...names], all),
      );
    }
  });

  it('stays right after later frames reuse the slabs', () => {
    const { pipeline, run } = setup();
    run({ s: 'A', p: 1, tag: 'keep' });
    const before = msgpackSnapshot(pipeline, ['A']);
    for (let k = 0; k < 20; k++) run([{ s: 'B', p: k, pad: 'z'.repeat(k * 3) }]);
    expect(msgpackSnapshot(pipeline, ['A'])).toEqual(before);
    expect(before.ticks[0]!.tag).toBe('keep');
  });
});
