import { afterEach, describe, expect, it, vi } from 'vitest';
import { Pipeline, updateToJson } from '../../src/pipeline/pipeline.js';
import { StubPublisher, decode, pack, type Update } from './stub-publisher.js';

function setup(topics: readonly string[]) {
  const pub = new StubPublisher().subscribe(topics);
  const pipeline = new Pipeline(pub, { coalesce: 'frame' });
  const run = (value: unknown): number => pipeline.process(pack(value), performance.now());
  return { pub, pipeline, run };
}

const texts = (pub: StubPublisher, topic: string): string[] =>
  pub.on(topic).map((p) => {
    expect(p.isBinary).toBe(false);
    expect(typeof p.message).toBe('string');
    return p.message as string;
  });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Pipeline JSON output', () => {
  it('encodes nothing as JSON when no j: topic has subscribers', () => {
    const { pub, run } = setup(['m:A', 'm:*']);
    const stringify = vi.spyOn(JSON, 'stringify');
    run([
      { s: 'A', p: 1 },
      { s: 'B', p: 2 },
    ]);
    run({ s: 'A', p: 3 });
    expect(stringify).not.toHaveBeenCalled();
    expect(pub.published.every((p) => typeof p.message !== 'string' && p.isBinary)).toBe(true);
  });

  it('publishes a JSON string to j:SYM when it has subscribers', () => {
    const { pub, run } = setup(['j:A', 'm:A']);
    run([
      { s: 'A', p: 1, q: 2 },
      { s: 'B', p: 5 },
      { s: 'A', p: 3, note: 'é' },
    ]);
    const a = pub.updates('j:A') as Update[];
    expect(texts(pub, 'j:A')).toHaveLength(1); // one frame: A's two updates as an array
    expect(a).toEqual(pub.updates('m:A'));
    expect(a.map((u) => u.n)).toEqual([1, 2]);
    expect(Object.keys(a[1]!)).toEqual(['s', 'p', 'note', 'n', 'r']);
    expect(pub.on('j:B')).toEqual([]);
    expect(pub.on('j:*')).toEqual([]);
  });

  it('publishes one JSON object to j:* for a single-tick frame', () => {
    const { pub, run } = setup(['j:*', 'm:*']);
    run({ s: 'A', p: 1 });
    const [text] = texts(pub, 'j:*');
    expect(JSON.parse(text!)).toEqual(pub.decoded('m:*')[0]);
    expect(pub.on('j:A')).toEqual([]);
  });

  it('publishes one JSON array to j:* for a batch', () => {
    const { pub, run } = setup(['j:*', 'm:*']);
    run([{ s: 'A', p: 1 }, { s: 'B', p: 2 }, { s: 'bad!' }, { s: 'A', p: 3 }]);
    const all = texts(pub, 'j:*');
    expect(all).toHaveLength(1);
    const parsed = JSON.parse(all[0]!) as Update[];
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed).toEqual(pub.decoded('m:*')[0]);
    expect(parsed.map((u) => `${u.s}${u.n}`)).toEqual(['A1', 'B1', 'A2']);
  });

  it('serves j:SYM and j:* together from the same updates', () => {
    const { pub, run } = setup(['j:*', 'j:B']);
    run([
      { s: 'A', p: 1 },
      { s: 'B', p: 2 },
    ]);
    const b = JSON.parse(texts(pub, 'j:B')[0]!) as Update;
    const all = JSON.parse(texts(pub, 'j:*')[0]!) as Update[];
    expect(all[1]).toEqual(b);
    expect(pub.on('m:*')).toEqual([]);
  });

  it('renders r as a plain JSON integer, not a string or BigInt', () => {
    const { pub, run } = setup(['j:A']);
    run({ s: 'A', p: 1, t: 2 ** 52 });
    const text = texts(pub, 'j:A')[0]!;
    const u = JSON.parse(text) as Update;
    expect(typeof u.r).toBe('number');
    expect(Number.isInteger(u.r)).toBe(true);
    expect(text).toMatch(/"r":\d+}$/);
    expect(u.t).toBe(2 ** 52);
  });
});

describe('updateToJson', () => {
  it('renders an update map as JSON with keys in order', () => {
    const bytes = pack({ s: 'A', p: 1.5, flag: false, none: null, n: 7, r: 1_700_000_000_000_000 });
    expect(JSON.parse(updateToJson(bytes))).toEqual({
      s: 'A',
      p: 1.5,
      flag: false,
      none: null,
      n: 7,
      r: 1_700_000_000_000_000,
    });
    expect(Object.keys(JSON.parse(updateToJson(bytes)) as object)).toEqual([
      's',
      'p',
      'flag',
      'none',
      'n',
      'r',
    ]);
  });

  it('decodes uint64 values as numbers', () => {
    // {r: uint64 2^40}
    const bytes = Uint8Array.of(0x81, 0xa1, 0x72, 0xcf, 0, 0, 0x01, 0, 0, 0, 0, 0);
    expect(updateToJson(bytes)).toBe(`{"r":${2 ** 40}}`);
    expect(decode(bytes)).toEqual({ r: 2 ** 40 });
  });
});
