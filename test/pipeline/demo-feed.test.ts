import { afterEach, describe, expect, it, vi } from 'vitest';
import { DemoFeed, demoSymbols } from '../../src/pipeline/demo-feed.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { MAX_SYMBOL_BYTES } from '../../src/protocol/codes.js';
import { StubPublisher, decode, type Tick, type Update } from './stub-publisher.js';

const SYMBOL_RE = /^[A-Za-z0-9._:/-]+$/;
const noop = (): void => {};

afterEach(() => {
  vi.useRealTimers();
});

describe('demoSymbols', () => {
  it.each([1, 10, 40, 45, 300])('gives %i distinct valid symbols', (count) => {
    const names = demoSymbols(count);
    expect(names).toHaveLength(count);
    expect(new Set(names).size).toBe(count);
    for (const s of names) {
      expect(s).toMatch(SYMBOL_RE);
      expect(Buffer.byteLength(s)).toBeGreaterThanOrEqual(1);
      expect(Buffer.byteLength(s)).toBeLessThanOrEqual(MAX_SYMBOL_BYTES);
    }
  });

  it('is a prefix-stable list', () => {
    expect(demoSymbols(45).slice(0, 40)).toEqual(demoSymbols(40));
    expect(demoSymbols(0)).toEqual([]);
  });
});

describe('DemoFeed.frame', () => {
  it('builds a batch of n valid ticks that the pipeline accepts with none rejected', () => {
    const pub = new StubPublisher().subscribe(['m:*']);
    const pipeline = new Pipeline(pub, { coalesce: 'frame' });
    const feed = new DemoFeed({ symbols: 45, ticksPerSecond: 1000 }, noop);
    for (const n of [1, 7, 45, 100, 4096]) {
      const frame = feed.frame(n);
      const ticks = decode(frame) as Tick[];
      expect(Array.isArray(ticks)).toBe(true);
      expect(ticks).toHaveLength(n);
      pipeline.process(frame, performance.now());
      expect(pipeline.accepted).toBe(n);
      expect(pipeline.rejected).toBe(0);
    }
    expect(pipeline.counters.ticksRejected).toBe(0);
    expect(pipeline.symbols.size).toBe(45);
  });

  it('fills every known key with a sane value', () => {
    const feed = new DemoFeed({ symbols: 5, ticksPerSecond: 100 }, noop);
    const before = Date.now() * 1000;
    for (const t of decode(feed.frame(50)) as Tick[]) {
      expect(Object.keys(t)).toEqual(['s', 'p', 'q', 'b', 'a', 't']);
      const { p, q, b, a } = t as { p: number; q: number; b: number; a: number };
      expect(p).toBeGreaterThan(0);
      expect(Number.isInteger(q) && q >= 1 && q <= 500).toBe(true);
      expect(b).toBeLessThan(p);
      expect(a).toBeGreaterThan(p);
      expect(Number.isSafeInteger(t.t)).toBe(true);
      // µs since the epoch (generous bound; not a timing assertion).
      expect(Math.abs((t.t as number) - before)).toBeLessThan(60_000_000);
    }
  });

  it('cycles through the symbols across frames', () => {
    const feed = new DemoFeed({ symbols: 3, ticksPerSecond: 100 }, noop);
    expect(feed.symbols).toEqual(demoSymbols(3));
    const seen = [feed.frame(2), feed.frame(4), feed.frame(1)].flatMap((f) =>
      (decode(f) as Tick[]).map((t) => t.s),
    );
    const [x, y, z] = demoSymbols(3);
    expect(seen).toEqual([x, y, z, x, y, z, x]);
  });

  it('random-walks prices in small steps', () => {
    const feed = new DemoFeed({ symbols: 1, ticksPerSecond: 100 }, noop);
    let prev = (decode(feed.frame(1)) as Tick[])[0]!.p as number;
    for (let k = 0; k < 200; k++) {
      const p = (decode(feed.frame(1)) as Tick[])[0]!.p as number;
      expect(Math.abs(p - prev)).toBeLessThanOrEqual(prev * 0.002 + 0.01);
      prev = p;
    }
  });
});

describe('DemoFeed timer', () => {
  function collect(options: { symbols: number; ticksPerSecond: number }) {
    const frames: Tick[][] = [];
    const feed = new DemoFeed(options, (frame) => frames.push(decode(frame) as Tick[]));
    const ticks = (): number => frames.reduce((n, f) => n + f.length, 0);
    return { feed, frames, ticks };
  }

  it.each([
    [2000, 2000],
    [1000, 1000],
    [50, 50],
    [25, 25],
  ])('produces %i ticks/s through the sink', (rate, perSecond) => {
    vi.useFakeTimers();
    const { feed, ticks } = collect({ symbols: 40, ticksPerSecond: rate });
    expect(feed.running).toBe(false);
    feed.start();
    expect(feed.running).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(ticks()).toBe(perSecond);
    vi.advanceTimersByTime(2000);
    expect(ticks()).toBe(3 * perSecond);
    feed.stop();
    expect(feed.running).toBe(false);
  });

  it('keeps the average rate exact when it does not divide into intervals', () => {
    vi.useFakeTimers();
    const { feed, ticks } = collect({ symbols: 10, ticksPerSecond: 1 });
    feed.start();
    vi.advanceTimersByTime(10_000);
    // 1 tick/s, with at most one tick of rounding carried over.
    expect(ticks()).toBeGreaterThanOrEqual(9);
    expect(ticks()).toBeLessThanOrEqual(10);
    feed.stop();
  });

  it('sends no empty frames when the rate is below one tick per interval', () => {
    vi.useFakeTimers();
    const { feed, frames, ticks } = collect({ symbols: 10, ticksPerSecond: 25 });
    feed.start();
    vi.advanceTimersByTime(1000);
    expect(ticks()).toBe(25);
    expect(frames.every((f) => f.length > 0)).toBe(true);
    feed.stop();
  });

  it('feeds a pipeline end to end with nothing rejected', () => {
    vi.useFakeTimers();
    const pub = new StubPublisher().subscribe(['m:*']);
    const pipeline = new Pipeline(pub, { coalesce: 'frame' });
    const feed = new DemoFeed({ symbols: 40, ticksPerSecond: 2000 }, (frame) => {
      pipeline.process(frame, performance.now());
    });
    feed.start();
    vi.advanceTimersByTime(1000);
    feed.stop();
    expect(pipeline.counters.ticksPublished).toBe(2000);
    expect(pipeline.counters.ticksRejected).toBe(0);
    expect(pipeline.symbols.size).toBe(40);
    const last = pub.decoded('m:*').at(-1) as Update[];
    expect(last.every((u) => u.n >= 1)).toBe(true);
  });

  it('ignores a second start and stops producing after stop', () => {
    vi.useFakeTimers();
    const { feed, ticks } = collect({ symbols: 40, ticksPerSecond: 500 });
    feed.start();
    feed.start();
    vi.advanceTimersByTime(1000);
    expect(ticks()).toBe(500);
    feed.stop();
    vi.advanceTimersByTime(5000);
    expect(ticks()).toBe(500);
    feed.stop();
    expect(feed.running).toBe(false);
    feed.start();
    vi.advanceTimersByTime(1000);
    expect(ticks()).toBe(1000);
    feed.stop();
  });
});
