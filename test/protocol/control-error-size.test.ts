/**
 * parseControl's bad_request messages name the offending value without
 * re-encoding it whole: a string is quoted and cut, anything else is named
 * by its type. A megabyte string or a deeply nested array (JSON.stringify
 * recursed over it and overflowed the stack) gives a short message.
 */
import { describe, expect, it } from 'vitest';
import { parseControl } from '../../src/protocol/control.js';

/** An array nested `levels` deep, built without recursion. */
function deepArray(levels: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

/** The failure message, asserting the parse failed. */
function failure(value: unknown): string {
  const r = parseControl(value);
  if (r.ok) throw new Error('expected a failure');
  return r.message;
}

const BOUND = 200;

describe('bad_request messages stay short whatever the client sent', () => {
  it.each([
    ['a symbol nested 100,000 levels', { op: 'subscribe', symbols: [deepArray(100_000)] }],
    ['a symbol that is a huge array', { op: 'subscribe', symbols: [new Array(1e6).fill('A')] }],
    ['a 1 MB symbol', { op: 'subscribe', symbols: ['A'.repeat(1 << 20)] }],
    ['a 1 MB invalid symbol', { op: 'unsubscribe', symbols: ['!'.repeat(1 << 20)] }],
    ['a 1 MB since key', { op: 'subscribe', symbols: ['A'], since: { ['x'.repeat(1 << 20)]: 1 } }],
    ['a 1 MB op', { op: 'o'.repeat(1 << 20) }],
    ['a symbol that is an object', { op: 'subscribe', symbols: [{ a: deepArray(50_000) }] }],
    ['a symbol that is a number', { op: 'subscribe', symbols: [Number.NaN] }],
    ['a symbol that is null', { op: 'subscribe', symbols: [null] }],
    ['a symbol that is bytes', { op: 'subscribe', symbols: [new Uint8Array(1 << 20)] }],
  ])('%s', (_name, value) => {
    const message = failure(value);
    expect(message.length).toBeGreaterThan(0);
    expect(message.length).toBeLessThan(BOUND);
  });
});
