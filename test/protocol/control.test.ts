/**
 * parseControl / parseSymbolList / isValidSymbol: validation of /stream
 * control messages after decoding (JSON or MessagePack).
 */
import { describe, expect, it } from 'vitest';
import {
  isValidSymbol,
  parseControl,
  parseSymbolList,
  type ControlParseResult,
} from '../../src/protocol/control.js';
import type { ControlRequest } from '../../src/protocol/types.js';
import { pack, unpack } from './helpers.js';

function ok(result: ControlParseResult): ControlRequest {
  if (!result.ok) throw new Error(`expected ok, got a failure`);
  return result.request;
}

function rejected(value: unknown): boolean {
  const r = parseControl(value);
  if (!r.ok) expect(typeof r.message).toBe('string');
  return !r.ok;
}

describe('isValidSymbol', () => {
  it.each([
    'A',
    'AAPL',
    'BTC-USD',
    'EUR/USD',
    'ES:FUT.2024',
    'a_b',
    'x'.repeat(32),
    '0',
    '__proto__',
  ])('accepts %j', (s) => expect(isValidSymbol(s)).toBe(true));

  it.each([
    '',
    'x'.repeat(33),
    'A B',
    ' A',
    'A\n',
    'ÄPPL',
    'A,B',
    '*',
    'A*',
    'a+b',
    'a@b',
    'é',
    '\u0000',
    '😀',
  ])('rejects %j', (s) => expect(isValidSymbol(s)).toBe(false));

  it('accepts exactly the characters [A-Za-z0-9._:/-]', () => {
    for (let c = 0; c < 0x3000; c++) {
      const ch = String.fromCharCode(c);
      expect(isValidSymbol(ch), `char ${c}`).toBe(/[A-Za-z0-9._:/-]/.test(ch));
    }
  });
});

describe('parseSymbolList', () => {
  it('de-duplicates in request order, keeping "*"', () => {
    expect(parseSymbolList(['B', 'A', 'B', '*', 'A', '*'])).toEqual(['B', 'A', '*']);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['empty array', []],
    ['a string', 'AAPL'],
    ['an object', { 0: 'AAPL' }],
    ['a number element', ['AAPL', 1]],
    ['a null element', [null]],
    ['an array element', [['AAPL']]],
    ['an empty symbol', ['']],
    ['a 33-byte symbol', ['x'.repeat(33)]],
    ['a symbol with a space', ['A B']],
    ['"**"', ['**']],
    ['a non-ASCII symbol', ['ÄPPL']],
  ])('rejects %s', (_name, v) => {
    expect(typeof parseSymbolList(v)).toBe('string');
  });
});

describe('parseControl: shape', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 1],
    ['a string', 'subscribe'],
    ['a boolean', true],
    ['an array', [{ op: 'ping' }]],
    ['a Uint8Array', new Uint8Array([0x80])],
    ['an empty object', {}],
    ['a numeric op', { op: 1 }],
    ['a null op', { op: null }],
    ['an array op', { op: ['ping'] }],
    ['an unknown op', { op: 'subscribe2', symbols: ['A'] }],
    ['an op in other case', { op: 'PING' }],
    ['a very long unknown op', { op: 'x'.repeat(10_000) }],
    ['a server-side op', { op: 'pong', id: 1 }],
  ])('rejects %s', (_name, v) => {
    expect(rejected(v)).toBe(true);
  });
});

describe('parseControl: subscribe', () => {
  it('returns the symbols de-duplicated in order and nothing else', () => {
    const req = ok(parseControl({ op: 'subscribe', symbols: ['MSFT', 'AAPL', 'MSFT'], extra: 1 }));
    expect(req).toStrictEqual({ op: 'subscribe', symbols: ['MSFT', 'AAPL'] });
  });

  it('accepts "*" alone or mixed with names', () => {
    expect(ok(parseControl({ op: 'subscribe', symbols: ['*'] }))).toStrictEqual({
      op: 'subscribe',
      symbols: ['*'],
    });
    expect(ok(parseControl({ op: 'subscribe', symbols: ['A', '*', 'A'] }))).toMatchObject({
      symbols: ['A', '*'],
    });
  });

  it.each([
    ['no symbols', {}],
    ['empty symbols', { symbols: [] }],
    ['symbols not an array', { symbols: 'AAPL,MSFT' }],
    ['symbols an object', { symbols: { AAPL: true } }],
    ['an invalid symbol', { symbols: ['AAPL', 'BAD SYMBOL'] }],
    ['a non-string symbol', { symbols: ['AAPL', 42] }],
    ['a 33-byte symbol', { symbols: ['x'.repeat(33)] }],
  ])('rejects %s', (_name, rest) => {
    expect(rejected({ op: 'subscribe', ...rest })).toBe(true);
  });

  it.each([0, 1, 100, 60_000])('accepts throttle %i', (throttle) => {
    expect(ok(parseControl({ op: 'subscribe', symbols: ['A'], throttle }))).toStrictEqual({
      op: 'subscribe',
      symbols: ['A'],
      throttle,
    });
  });

  it('ignores a null throttle and a null since', () => {
    expect(
      ok(parseControl({ op: 'subscribe', symbols: ['A'], throttle: null, since: null })),
    ).toStrictEqual({ op: 'subscribe', symbols: ['A'] });
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['a string', '100'],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['a boolean', true],
    ['an object', { ms: 100 }],
  ])('rejects a %s throttle', (_name, throttle) => {
    expect(rejected({ op: 'subscribe', symbols: ['A'], throttle })).toBe(true);
  });

  it('accepts since with valid symbols and integers >= 0', () => {
    const since = { AAPL: 0, 'BTC-USD': 12345, 'EUR/USD': 2 ** 40 };
    // toEqual: `since` comes back as a prototype-free copy (next test).
    expect(ok(parseControl({ op: 'subscribe', symbols: ['AAPL'], since }))).toEqual({
      op: 'subscribe',
      symbols: ['AAPL'],
      since,
    });
    expect(ok(parseControl({ op: 'subscribe', symbols: ['A'], since: {} }))).toEqual({
      op: 'subscribe',
      symbols: ['A'],
      since: {},
    });
  });

  it('since has no prototype: symbols named like Object members are not found in it', () => {
    const request = ok(
      parseControl({ op: 'subscribe', symbols: ['toString', 'constructor'], since: { AAPL: 3 } }),
    );
    expect(request.op).toBe('subscribe');
    const since = request.op === 'subscribe' ? request.since! : {};
    expect(since['toString']).toBeUndefined();
    expect(since['constructor']).toBeUndefined();
    expect(since['__proto__']).toBeUndefined();
    expect(since['AAPL']).toBe(3);
    const own = ok(
      parseControl({ op: 'subscribe', symbols: ['toString'], since: { toString: 5 } }),
    );
    expect(own.op === 'subscribe' ? own.since!['toString'] : undefined).toBe(5);
  });

  it.each([
    ['an array', [1, 2]],
    ['a number', 5],
    ['a string', 'AAPL:5'],
    ['a Uint8Array', new Uint8Array([1])],
    ['an invalid symbol key', { 'BAD KEY': 1 }],
    ['a "*" key', { '*': 1 }],
    ['an empty key', { '': 1 }],
    ['a negative number', { AAPL: -1 }],
    ['a fractional number', { AAPL: 1.5 }],
    ['a string number', { AAPL: '5' }],
    ['a null number', { AAPL: null }],
    ['NaN', { AAPL: NaN }],
  ])('rejects since as %s', (_name, since) => {
    expect(rejected({ op: 'subscribe', symbols: ['AAPL'], since })).toBe(true);
  });

  it('accepts the same request decoded from MessagePack and from JSON', () => {
    const msg = { op: 'subscribe', symbols: ['AAPL', 'MSFT'], throttle: 250, since: { AAPL: 7 } };
    const fromMsgpack = ok(parseControl(unpack(pack(msg))));
    const fromJson = ok(parseControl(JSON.parse(JSON.stringify(msg))));
    expect(fromMsgpack).toEqual(msg);
    expect(fromJson).toEqual(msg);
  });
});

describe('parseControl: unsubscribe', () => {
  it('returns the symbols de-duplicated in order', () => {
    expect(
      ok(parseControl({ op: 'unsubscribe', symbols: ['*', 'B', '*', 'A'], throttle: 5 })),
    ).toStrictEqual({ op: 'unsubscribe', symbols: ['*', 'B', 'A'] });
  });

  it.each([
    ['no symbols', {}],
    ['empty symbols', { symbols: [] }],
    ['symbols not an array', { symbols: 'A' }],
    ['an invalid symbol', { symbols: ['A', 'B C'] }],
  ])('rejects %s', (_name, rest) => {
    expect(rejected({ op: 'unsubscribe', ...rest })).toBe(true);
  });
});

describe('parseControl: ping', () => {
  it.each([
    ['a number', 42],
    ['zero', 0],
    ['false', false],
    ['an empty string', ''],
    ['a string', 'abc'],
    ['an object', { a: [1, 2] }],
    ['an array', [1, 'x']],
    ['null', null],
  ])('echoes %s as the id', (_name, id) => {
    expect(ok(parseControl({ op: 'ping', id }))).toStrictEqual({ op: 'ping', id });
  });

  it('uses null when the id is absent', () => {
    expect(ok(parseControl({ op: 'ping' }))).toStrictEqual({ op: 'ping', id: null });
    expect(ok(parseControl({ op: 'ping', id: undefined }))).toStrictEqual({ op: 'ping', id: null });
  });

  it('keeps the very same id value', () => {
    const id = { deep: { x: 1 } };
    const req = ok(parseControl({ op: 'ping', id })) as { id: unknown };
    expect(req.id).toBe(id);
  });
});
