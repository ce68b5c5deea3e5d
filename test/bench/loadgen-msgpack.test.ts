/**
 * The native loader's MessagePack walker (bench/loadgen/src/mpwalk.c) and its
 * WebSocket reader (wsconn.c), through `loadgen selftest frames`: every width
 * of every type it reads or skips, frames of every payload-length width, and
 * the same byte stream cut at every offset and read in small chunks.
 */
import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDSHAKE, canBuild, mp, selftest, wsFrame } from './loadgen.js';

const ok = canBuild();
const packr = new Packr({ useRecords: false });
const key = (k: string): Buffer => mp.str(k);
type Rec = Record<string, unknown>;

/** One frame and what the walker must report for it. */
interface Case {
  payload: Buffer;
  maps: Rec[];
  count?: number;
  width?: 7 | 16 | 64;
}

const tick = (s: string, n: number, t: number): Rec => ({ map: true, s, n, t });

function cases(): Case[] {
  const out: Case[] = [];
  // msgpackr's own encodings: t past 2^32 arrives as float64, small n as fixint.
  out.push({
    payload: packr.pack({ s: 'AAPL', p: 189.5, q: 3, t: 1_700_000_000_000_000, n: 1 }),
    maps: [tick('AAPL', 1, 1_700_000_000_000_000)],
    count: 1,
  });
  const batch = Array.from({ length: 20 }, (_, i) => ({
    s: `S${i}`,
    p: i / 4,
    n: 70_000 + i,
    t: 1e15 + i,
  }));
  out.push({
    payload: packr.pack(batch),
    maps: batch.map((b) => tick(b.s, b.n, b.t)),
    count: 20,
  });
  // Every integer and float width, for n, k and t.
  const widths: [number | 'fixint', number | bigint, number][] = [
    ['fixint', 5, 5],
    ['fixint', -1, -1],
    [0xcc, 200, 200],
    [0xcd, 60_000, 60_000],
    [0xce, 4_000_000_000, 4_000_000_000],
    [0xcf, 1_700_000_000_123_456n, 1_700_000_000_123_456],
    [0xd0, -100, -100],
    [0xd1, -30_000, -30_000],
    [0xd2, -2_000_000_000, -2_000_000_000],
    [0xd3, -1_700_000_000_123_456n, -1_700_000_000_123_456],
    [0xca, 1234, 1234],
    [0xcb, 1_700_000_000_654_321, 1_700_000_000_654_321],
    [0xcb, 7.9, 7], // floats are truncated
  ];
  for (const [type, v, want] of widths) {
    out.push({
      payload: mp.map([
        [key('s'), mp.str('W')],
        [key('n'), mp.num(type, v)],
        [key('k'), mp.num(type, v)],
        [key('t'), mp.num(type, v)],
      ]),
      maps: [{ map: true, s: 'W', n: want, k: want, t: want }],
      count: 1,
    });
  }
  // Every string width for the symbol, every map width, every array width.
  const strW: ('fix' | 8 | 16 | 32)[] = ['fix', 8, 16, 32];
  const mapW: ('fix' | 16 | 32)[] = ['fix', 16, 32];
  for (const sw of strW)
    for (const mw of mapW)
      out.push({
        payload: mp.array(
          [
            mp.map(
              [
                [key('s'), mp.str(`sym-${sw}`, sw)],
                [key('n'), mp.num(0xce, 9)],
              ],
              mw,
            ),
          ],
          mw,
        ),
        maps: [{ map: true, s: `sym-${sw}`, n: 9 }],
        count: 1,
      });
  // Keys at other widths still match; values of every other type are skipped.
  const skipped: Buffer[] = [
    Buffer.from([0xc0]), // nil
    Buffer.from([0xc2]), // false
    Buffer.from([0xc3]), // true
    Buffer.from([0xc4, 2, 1, 2]), // bin8
    Buffer.from([0xc5, 0, 1, 9]), // bin16
    Buffer.from([0xc6, 0, 0, 0, 1, 9]), // bin32
    Buffer.from([0xd4, 1, 9]), // fixext1
    Buffer.from([0xd5, 1, 9, 9]), // fixext2
    Buffer.from([0xd6, 1, 9, 9, 9, 9]), // fixext4
    Buffer.concat([Buffer.from([0xd7, 1]), Buffer.alloc(8)]), // fixext8
    Buffer.concat([Buffer.from([0xd8, 1]), Buffer.alloc(16)]), // fixext16
    Buffer.from([0xc7, 1, 5, 9]), // ext8
    Buffer.from([0xc8, 0, 1, 5, 9]), // ext16
    Buffer.from([0xc9, 0, 0, 0, 1, 5, 9]), // ext32
    mp.str('x'.repeat(40), 8),
    mp.str('y', 16),
    mp.str('z', 32),
    mp.num(0xcb, 1.5),
    mp.num(0xca, 2.5),
    mp.num(0xd3, -5n),
    mp.array([mp.map([[key('s'), mp.str('NESTED')]]), mp.array([], 16)], 32),
    mp.map([[key('n'), mp.num(0xcc, 77)]], 16),
  ];
  out.push({
    payload: mp.map(
      [
        ...skipped.map((v, i) => [mp.str(`x${i}`, 8), v]),
        [mp.num('fixint', 1), mp.str('an integer key')],
        [mp.str('s', 16), mp.str('KEYS')],
        [mp.str('n', 32), mp.num(0xcd, 300)],
        [mp.str('t', 8), mp.num(0xcf, 5n)],
      ],
      16,
    ),
    maps: [{ map: true, s: 'KEYS', n: 300, t: 5 }],
    count: 1,
  });
  // Control messages: op is reported, the maps nested in them are not visited.
  out.push({
    payload: packr.pack({ op: 'subscribed', symbols: ['A', 'B'], epoch: '9f2c' }),
    maps: [{ map: true, op: 'subscribed' }],
    count: 1,
  });
  out.push({
    payload: packr.pack({ op: 'snapshot', epoch: '9f2c', ticks: [{ s: 'A', n: 4, t: 1 }] }),
    maps: [{ map: true, op: 'snapshot' }],
    count: 1,
  });
  // Array elements that are not maps are skipped, not reported.
  out.push({
    payload: mp.array([mp.num('fixint', 3), mp.map([[key('s'), mp.str('M')]]), mp.str('x')], 16),
    maps: [{ map: true, s: 'M' }],
    count: 3,
  });
  // Non-minimal WebSocket length fields (a 64-bit length for a short frame).
  out.push({
    payload: mp.map([[key('s'), mp.str('LEN64')]]),
    maps: [{ map: true, s: 'LEN64' }],
    count: 1,
    width: 64,
  });
  return out;
}

function stream(cs: Case[], prefix = HANDSHAKE): Buffer {
  const parts: Buffer[] = [prefix];
  for (const c of cs) parts.push(wsFrame(2, c.payload, c.width));
  parts.push(wsFrame(9, Buffer.from('hi'))); // a ping: answered, not reported
  parts.push(wsFrame(8, Buffer.from([0x03, 0xe8]))); // close 1000
  return Buffer.concat(parts);
}

function expected(cs: Case[]): Rec[] {
  const out: Rec[] = [];
  for (const c of cs) {
    out.push(...c.maps);
    out.push({ frame: 'binary', len: c.payload.length, maps: c.maps.length, count: c.count ?? -1 });
  }
  out.push({ close: 1000 });
  return out;
}

describe.skipIf(!ok)('loadgen MessagePack walker', () => {
  beforeAll(() => {});

  it('finds s, n, k, t and op at every width, cut at every offset of the stream', async () => {
    const cs = cases();
    expect(cs.some((c) => c.payload.length >= 126)).toBe(true); // a 16-bit length field
    const input = stream(cs);
    const { lines, summary } = await selftest(['frames', '--splits', 'all'], input);
    const end = lines.pop();
    expect(lines).toEqual(expected(cs));
    expect(end).toMatchObject({
      end: true,
      state: 2,
      http_status: 101,
      rx: input.length,
      carried: 0,
    });
    expect(summary).toMatchObject({
      bytes: input.length,
      runs: input.length - 1 + 7,
      mismatches: 0,
    });
  });

  it('reads a frame with a 64-bit length cut into pieces and in small chunks', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => ({
      s: `S${i % 7}`,
      p: 1.25,
      n: i + 1,
      t: 1e15 + i,
      pad: 'x'.repeat(12),
    }));
    const c: Case = {
      payload: packr.pack(big),
      maps: big.map((b) => tick(b.s, b.n, b.t)),
      count: 3000,
    };
    expect(c.payload.length).toBeGreaterThan(65_535);
    const input = stream([c, cases()[0]!]);
    const { lines, summary } = await selftest(['frames', '--splits', 'step:997'], input);
    lines.pop();
    expect(lines).toEqual(expected([c, cases()[0]!]));
    expect(summary).toMatchObject({ mismatches: 0 });
  });

  it('reports a truncated or malformed frame as a parse error and reads on', async () => {
    const good = packr.pack({ s: 'OK', n: 1 });
    const bad = [
      good.subarray(0, good.length - 1), // truncated
      Buffer.concat([good, Buffer.from([0xc0])]), // trailing bytes
      Buffer.from([0xc1]), // never used
      Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // an array claiming 4 G elements
      Buffer.from([0x81, 0xa1, 0x73, 0xdb, 0x7f, 0xff, 0xff, 0xff]), // str32 past the end
    ];
    const input = Buffer.concat([HANDSHAKE, ...bad.map((b) => wsFrame(2, b)), wsFrame(2, good)]);
    const { lines, summary } = await selftest(['frames', '--splits', 'all'], input);
    const frames = lines.filter((l) => 'frame' in l);
    expect(frames.map((f) => f.maps)).toEqual([-1, -1, -1, -1, -1, 1]);
    expect(lines.filter((l) => l.map === true && l.s === 'OK')).toHaveLength(1);
    expect(summary).toMatchObject({ mismatches: 0 });
  });

  it('stops at a refused upgrade and names its status', async () => {
    const input = Buffer.from(
      'HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nunauthorized',
    );
    const { lines } = await selftest(['frames', '--splits', 'none'], input);
    expect(lines).toEqual([
      { end: true, state: 3, http_status: 401, fragments: 0, rx: input.length, carried: 0 },
    ]);
  });
});
