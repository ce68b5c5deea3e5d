/**
 * The native loader's minimal JSON scan (bench/loadgen/src/jscan.c) for
 * `format=json` streams and JSON peers, through `loadgen selftest frames`:
 * it finds s, n, k, t and op in objects (alone or in an array), skips
 * everything else (strings with escapes and brackets, nested values), and
 * gives the same answer whatever the cut between reads.
 */
import { describe, expect, it } from 'vitest';
import { HANDSHAKE, canBuild, selftest, wsFrame } from './loadgen.js';

const ok = canBuild();
type Rec = Record<string, unknown>;

const frames: [string, Rec[]][] = [
  // tickwire's JSON update, and a batch.
  [
    '{"s":"AAPL","p":189.5,"n":1,"r":1700000000123456,"t":1700000000000000}',
    [{ s: 'AAPL', n: 1, t: 1700000000000000 }],
  ],
  [
    '[{"s":"S1","p":1,"n":2,"t":10},{"s":"S2","p":2,"n":3,"t":11,"k":3}]',
    [
      { s: 'S1', n: 2, t: 10 },
      { s: 'S2', n: 3, t: 11, k: 3 },
    ],
  ],
  // Whitespace anywhere JSON allows it, keys in another order, a negative n.
  [' [ \n{ "t" : 5 ,\t"s" : "W" , "n" : -7 } \r\n] ', [{ s: 'W', n: -7, t: 5 }]],
  // Floats: exponents and fractions are parsed and truncated.
  ['{"s":"F","t":1.7e+15,"n":12.9,"k":-3.5}', [{ s: 'F', t: 1.7e15, n: 12, k: -3 }]],
  // Strings holding quotes, brackets and commas; nested extra values; null/true/false.
  [
    '{"x":"a\\"}],{[\\\\","s":"ESC","y":{"n":999,"z":[1,{"t":2}]},"q":null,"b":true,"c":false,"n":4}',
    [{ s: 'ESC', n: 4 }],
  ],
  // Keys that only look alike are not ours.
  ['{"ss":"no","nn":1,"s ":2,"S":"X","s":"YES"}', [{ s: 'YES' }]],
  // Control messages: op reported, nested ticks not visited.
  ['{"op":"subscribed","symbols":["A","B"],"epoch":"9f2c"}', [{ op: 'subscribed' }]],
  ['{"op":"snapshot","epoch":"9f2c","ticks":[{"s":"A","n":1,"r":2}]}', [{ op: 'snapshot' }]],
  // Non-object array elements are skipped; an empty array has no objects.
  ['[1,"two",[3],{"s":"OBJ"},null]', [{ s: 'OBJ' }]],
  ['[]', []],
  ['{}', [{}]],
];

describe.skipIf(!ok)('loadgen JSON scan', () => {
  it('finds s, n, k, t and op, cut at every offset of the stream', async () => {
    const input = Buffer.concat([
      HANDSHAKE,
      ...frames.map(([text]) => wsFrame(1, Buffer.from(text))),
      wsFrame(8, Buffer.from([0x03, 0xe8])),
    ]);
    const want: Rec[] = [];
    for (const [text, maps] of frames) {
      want.push(...maps.map((m) => ({ map: true, ...m })));
      want.push({ frame: 'text', len: Buffer.byteLength(text), maps: maps.length, count: -1 });
    }
    want.push({ close: 1000 });
    const { lines, summary } = await selftest(['frames', '--splits', 'all'], input);
    lines.pop();
    expect(lines).toEqual(want);
    expect(summary).toMatchObject({ runs: input.length - 1 + 7, mismatches: 0 });
  });

  it('reports malformed JSON as a parse error', async () => {
    const bad = [
      '{"s":"A"',
      '{"s":"A",}x',
      '[{"s":"A"}',
      '{"s":"unterminated}',
      'ready',
      '{"s" "A"}',
    ];
    const input = Buffer.concat([HANDSHAKE, ...bad.map((t) => wsFrame(1, Buffer.from(t)))]);
    const { lines } = await selftest(['frames', '--splits', 'none'], input);
    expect(lines.filter((l) => 'frame' in l).map((l) => l.maps)).toEqual(bad.map(() => -1));
  });
});
