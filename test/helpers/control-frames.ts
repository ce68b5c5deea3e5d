/**
 * fast-check arbitraries of /stream control frames for fuzzing
 * (test/server/stream-control-fuzz.test.ts): control messages of any shape
 * (fc.anything and fc.letrec values with odd keys such as __proto__, big
 * integers, NaN, strings with lone surrogates, huge arrays), well-formed
 * ones that reach the subscribe path, nesting thousands of levels deep
 * (built as bytes and text, never by a recursive encoder), the attack
 * shapes of issue 12, odd JSON texts, and mutated or truncated encodings;
 * as MessagePack binary frames or JSON text frames.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';

/** A symbol the fuzzed messages name now and then (the test's bystander listens to it). */
export const LIVE = 'FZC.LIVE';

export interface Frame {
  readonly text: boolean;
  readonly payload: Uint8Array | string;
}

/** Encodes what a careless client could: big ints past 64 bits become floats, Map/Set/typed arrays ext types. */
const PACKR = new Packr({ useRecords: false, largeBigIntToFloat: true, moreTypes: true });

// ---- Values -------------------------------------------------------------

const oddUnit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\ud800', // lone surrogates
      '\udfff',
      '\u0000',
      '\uffff',
      '\u202e',
      '😀',
      'é',
      '"',
      '\\',
      '[',
      '{',
    ),
  },
);
const oddString = fc.string({ unit: oddUnit, maxLength: 40 });
const oddKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'op',
    'symbols',
    'id',
    'since',
    'throttle',
    'epoch',
    '',
    'k'.repeat(300),
  ),
  oddString,
);
const scalar = fc.oneof(
  fc.double(), // NaN, ±Infinity, -0 included
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom(2 ** 53 + 1, 2 ** 64, -(2 ** 63), Number.MAX_VALUE, Number.MIN_VALUE),
  oddString,
  fc.boolean(),
  fc.constant(null),
);
const anything = fc.anything({
  key: oddKey,
  maxDepth: 4,
  maxKeys: 4,
  size: 'small',
  stringUnit: oddUnit,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', maxDepth: 16, withCrossShrink: true },
    scalar,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(oddKey, tie('tree'), { maxKeys: 3 }),
  ),
}));
const hugeArray = fc
  .tuple(fc.integer({ min: 500, max: 8000 }), scalar)
  .map(([n, v]) => Array.from({ length: n }, () => v));
const value = fc.oneof(
  { weight: 3, arbitrary: anything },
  { weight: 3, arbitrary: tree },
  { weight: 3, arbitrary: scalar },
);
/** Any value; now and then a huge array. */
const big = fc.oneof({ weight: 15, arbitrary: value }, { weight: 1, arbitrary: hugeArray });
const symbol = fc.oneof(
  fc.constantFrom('*', LIVE, 'AAPL', 'toString', '__proto__', 'constructor'),
  fc.stringMatching(/^[A-Za-z0-9._:/-]{1,32}$/),
  oddString,
  value,
);
const symbols = fc.oneof(
  { weight: 4, arbitrary: fc.array(symbol, { maxLength: 12 }) },
  { weight: 1, arbitrary: big },
);
/** A control message: the right keys (all optional) with any values. */
const control = fc.record(
  {
    op: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('subscribe', 'unsubscribe', 'ping') },
      { weight: 1, arbitrary: fc.constantFrom('pong', 'snapshot', 'SUBSCRIBE', '') },
      { weight: 1, arbitrary: value },
    ),
    symbols,
    id: big,
    throttle: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), value),
    since: fc.oneof(fc.dictionary(fc.oneof(symbol.filter(isString), oddKey), value), value),
    epoch: fc.oneof(oddString, value),
  },
  { requiredKeys: [] },
);
const validSymbol = fc.oneof(
  fc.constantFrom('*', LIVE, 'AAPL', 'toString', '__proto__', 'constructor'),
  fc.stringMatching(/^[A-Za-z0-9._:/-]{1,32}$/),
);
const validSymbols = fc.array(validSymbol, { minLength: 1, maxLength: 8 });
/** A well-formed control message (these reach the subscribe path), plus one odd key or not. */
const wellFormed = fc
  .tuple(
    fc.oneof(
      fc.record(
        {
          op: fc.constant('subscribe'),
          symbols: validSymbols,
          throttle: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5000 })),
          since: fc.dictionary(
            validSymbol.filter((s) => s !== '*'),
            fc.nat(),
            { maxKeys: 3 },
          ),
          epoch: fc.string({ minLength: 1, maxLength: 20 }),
        },
        { requiredKeys: ['op', 'symbols'] },
      ),
      fc.record({ op: fc.constant('unsubscribe'), symbols: validSymbols }),
      fc.record({ op: fc.constant('ping'), id: big }),
    ),
    fc.option(fc.tuple(oddKey, value), { freq: 3 }),
  )
  .map(([message, extra]) => (extra === null ? message : { ...message, [extra[0]]: extra[1] }));

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

// ---- Encodings ----------------------------------------------------------

function packed(v: unknown): Uint8Array {
  try {
    return PACKR.pack(v);
  } catch {
    return PACKR.pack(String(v)); // a value msgpackr cannot encode at all
  }
}

/** JSON as a client might write it: big ints as long integer literals. */
function json(v: unknown): string {
  const marked = JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? `__BIG${x.toString()}__` : x,
  ) as string | undefined;
  return (marked ?? 'null').replace(/"__BIG(-?\d+)__"/g, '$1');
}

/** `levels` nested containers around a scalar, as raw bytes or text (no recursion anywhere). */
function deepJson(levels: number, kind: 'array' | 'map'): string {
  return kind === 'array'
    ? `${'['.repeat(levels)}1${']'.repeat(levels)}`
    : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

function deepMsgpack(levels: number, kind: 'array' | 'map'): Uint8Array {
  const head = kind === 'array' ? [0x91] : [0x81, 0xa1, 0x61];
  const out = new Uint8Array(levels * head.length + 1);
  for (let i = 0; i < levels; i++) out.set(head, i * head.length);
  out[out.length - 1] = 0x01;
  return out;
}

/** {op: OP, KEY: <raw>} around raw bytes or text. */
function wrapMsgpack(op: string, key: string, raw: Uint8Array): Uint8Array {
  const str = (s: string): Buffer => Buffer.concat([Buffer.of(0xa0 | s.length), Buffer.from(s)]);
  return Buffer.concat([Buffer.of(0x82), str('op'), str(op), str(key), raw]);
}

const deepFrame: fc.Arbitrary<Frame> = fc
  .record({
    levels: fc.oneof(
      fc.integer({ min: 7, max: 12 }),
      fc.integer({ min: 13, max: 300 }),
      fc.integer({ min: 1500, max: 8000 }),
    ),
    kind: fc.constantFrom<'array' | 'map'>('array', 'map'),
    target: fc.constantFrom<readonly [string, string]>(
      ['ping', 'id'],
      ['subscribe', 'symbols'],
      ['unsubscribe', 'symbols'],
      ['subscribe', 'since'],
    ),
    text: fc.boolean(),
  })
  .map(({ levels, kind, target: [op, key], text }) =>
    text
      ? { text, payload: `{"op":"${op}","${key}":${deepJson(levels, kind)}}` }
      : { text, payload: wrapMsgpack(op, key, deepMsgpack(levels, kind)) },
  );

/** The two shapes of issue 12 that ended the process, exactly. */
const attackShapes: fc.Arbitrary<Frame> = fc.constantFrom(
  { text: true, payload: `{"op":"ping","id":${deepJson(1500, 'array')}}` },
  { text: true, payload: `{"op":"subscribe","symbols":[${deepJson(7999, 'array')}]}` },
);

const oddJsonText = fc.constantFrom(
  '{"op":"ping","id":123456789012345678901234567890}',
  '{"op":"ping","id":-0}',
  '{"op":"ping","id":1e999}',
  '{"op":"ping","op":"subscribe","symbols":["A"]}',
  '{"__proto__":{"op":"ping"}}',
  '{"op":"ping","__proto__":null,"id":{"__proto__":[1]}}',
  '{"op":"subscribe","symbols":["A"],"since":{"__proto__":1,"constructor":2}}',
  '{"op":"subscribe","symbols":["A"],"since":{"A":1e400}}',
  '{"op":"subscribe","symbols":["A"],"throttle":1e308}',
  '{"op":"ping","id":"\\ud800"}',
  '{"op":"ping","id":"\\u0000"}',
  `{"op":"ping","id":"${'x'.repeat(15_000)}"}`,
  '  {"op" : "ping" }  ',
  '[]',
  '"ping"',
  'null',
  '',
  '{',
  '}',
  '{"op":"ping"}{"op":"ping"}',
);

/** Flips, sets, inserts or deletes a few bytes, or truncates. */
const mutatedBytes = (base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(
      base,
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'),
          fc.constantFrom(0x00, 0x7f, 0x80, 0x91, 0xc0, 0xc1, 0xd4, 0xdc, 0xdd, 0xdf, 0xff),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([bytes, edits]) => {
      let b = Buffer.from(bytes);
      for (const [at, how, byte] of edits) {
        if (b.length === 0) break;
        const i = at % b.length;
        if (how === 'flip') b[i] = b[i]! ^ (1 + (byte % 255));
        else if (how === 'set') b[i] = byte;
        else if (how === 'insert')
          b = Buffer.concat([b.subarray(0, i), Buffer.of(byte), b.subarray(i)]);
        else if (how === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
        else b = b.subarray(0, i);
      }
      return b;
    });

/** The same on text, character-wise (a text frame stays valid UTF-8). */
const mutatedText = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'truncate'), oddUnit), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([text, edits]) => {
      let t = text;
      for (const [at, how, ch] of edits) {
        const i = t.length === 0 ? 0 : at % t.length;
        if (how === 'insert') t = t.slice(0, i) + ch + t.slice(i);
        else if (how === 'delete') t = t.slice(0, i) + t.slice(i + 1);
        else t = t.slice(0, i);
      }
      return t;
    });

const controlObject = fc.oneof(
  { weight: 4, arbitrary: wellFormed },
  { weight: 3, arbitrary: control },
  { weight: 1, arbitrary: value },
);

/** One fuzzed control frame. */
export const controlFrame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: controlObject.map((v) => ({ text: false, payload: packed(v) })) },
  { weight: 4, arbitrary: controlObject.map((v) => ({ text: true, payload: json(v) })) },
  { weight: 2, arbitrary: deepFrame },
  { weight: 1, arbitrary: attackShapes },
  { weight: 1, arbitrary: oddJsonText.map((t) => ({ text: true, payload: t })) },
  {
    weight: 2,
    arbitrary: mutatedBytes(controlObject.map(packed)).map((b) => ({ text: false, payload: b })),
  },
  {
    weight: 1,
    // JSON bytes in a binary frame, mutated: MessagePack garbage.
    arbitrary: mutatedBytes(controlObject.map((v) => Buffer.from(json(v)))).map((b) => ({
      text: false,
      payload: b,
    })),
  },
  {
    weight: 2,
    arbitrary: mutatedText(fc.oneof(controlObject.map(json), oddJsonText)).map((t) => ({
      text: true,
      payload: t,
    })),
  },
);
