import { describe, expect, it } from 'vitest';
import { FrameStatus, TickScanner } from '../../src/protocol/tick-scanner.js';
import { fnv1a } from '../../src/pipeline/symbol-hash.js';
import { SymbolEntry, SymbolTable } from '../../src/pipeline/symbol-table.js';
import { pack } from './stub-publisher.js';

const enc = new TextEncoder();

/** `name`'s bytes at offset `at` inside a buffer full of junk. */
function embedded(name: string, at: number): { buf: Uint8Array; start: number; len: number } {
  const bytes = enc.encode(name);
  const buf = new Uint8Array(at + bytes.length + 7).fill(0x5a);
  buf.set(bytes, at);
  return { buf, start: at, len: bytes.length };
}

function intern(
  table: SymbolTable,
  name: string,
  at = 0,
  scanHash?: number,
): SymbolEntry | undefined {
  const { buf, start, len } = embedded(name, at);
  return table.intern(buf, start, len, scanHash ?? fnv1a(buf, start, len));
}

describe('fnv1a (the recent-symbol cache index)', () => {
  it('is 32-bit FNV-1a', () => {
    // Reference values of FNV-1a 32.
    expect(fnv1a(enc.encode('a'), 0, 1) >>> 0).toBe(0xe40c292c);
    expect(fnv1a(enc.encode('foobar'), 0, 6) >>> 0).toBe(0xbf9cf968);
  });

  it('equals the hash the tick scanner computes for a symbol', () => {
    const scanner = new TickScanner();
    for (const s of ['AAPL', 'BTC-USD', 'EUR/USD', 'ES.FUT', 'x:y-z']) {
      expect(scanner.scan(pack({ s, p: 1 }))).toBe(FrameStatus.Ok);
      const b = enc.encode(s);
      expect(scanner.symHash[0]).toBe(fnv1a(b, 0, b.length));
    }
  });
});

describe('SymbolTable', () => {
  it('returns the same entry for the same symbol bytes at different offsets', () => {
    const table = new SymbolTable(10);
    const a = intern(table, 'AAPL', 0);
    const b = intern(table, 'AAPL', 13);
    const c = intern(table, 'AAPL', 200);
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(table.size).toBe(1);
    expect(a!.name).toBe('AAPL');
    expect(Array.from(a!.bytes)).toEqual(Array.from(enc.encode('AAPL')));
  });

  it('copies the symbol bytes out of the frame', () => {
    const table = new SymbolTable(10);
    const { buf, start, len } = embedded('MSFT', 3);
    const e = table.intern(buf, start, len, fnv1a(buf, start, len))!;
    buf.fill(0);
    expect(e.name).toBe('MSFT');
    expect(Array.from(e.bytes)).toEqual(Array.from(enc.encode('MSFT')));
    expect(intern(table, 'MSFT', 9)).toBe(e);
  });

  it('keeps distinct symbols apart when they share a home slot', () => {
    // 1024 slots at first: with 400 symbols, many share one (birthday bound).
    const table = new SymbolTable(10_000);
    const names = Array.from({ length: 400 }, (_, i) => `H${i}`);
    const entries = names.map((n) => intern(table, n)!);
    expect(new Set(entries).size).toBe(400);
    names.forEach((n, i) => expect(intern(table, n, 5)).toBe(entries[i]));
    expect(table.longestProbe).toBeGreaterThan(0);
    expect(table.size).toBe(400);
  });

  it('a wrong or shared scanner hash costs a cache miss, never a wrong entry', () => {
    const table = new SymbolTable(100);
    const a = intern(table, 'AAA', 0, 7)!;
    const b = intern(table, 'BBB', 0, 7)!; // same cache slot: replaces AAA there
    expect(b).not.toBe(a);
    expect(intern(table, 'AAA', 3, 7)).toBe(a);
    expect(intern(table, 'AAA', 3, 12345)).toBe(a);
    expect(intern(table, 'BBB', 1, -1)).toBe(b);
    expect(table.size).toBe(2);
  });

  it('tells symbols apart that differ only in length', () => {
    const table = new SymbolTable(10);
    const a = intern(table, 'AAA')!;
    const b = intern(table, 'AAAA')!;
    const c = intern(table, 'AA')!;
    expect(new Set([a, b, c]).size).toBe(3);
    expect(intern(table, 'AAAA', 3)).toBe(b);
  });

  it('keeps every lookup right after growing past 512 symbols', () => {
    const table = new SymbolTable(100_000);
    const names = Array.from({ length: 3000 }, (_, i) => `S${i}`);
    const entries = names.map((n) => intern(table, n)!);
    expect(table.size).toBe(3000);
    names.forEach((n, i) => {
      expect(intern(table, n, i % 17)).toBe(entries[i]);
      expect(table.get(n)).toBe(entries[i]);
    });
    expect(table.size).toBe(3000);
  });

  it('returns undefined for new symbols when full, but still finds known ones', () => {
    const table = new SymbolTable(2);
    const a = intern(table, 'A')!;
    const b = intern(table, 'B')!;
    expect(intern(table, 'C')).toBeUndefined();
    expect(table.size).toBe(2);
    expect(table.get('C')).toBeUndefined();
    expect(intern(table, 'A', 4)).toBe(a);
    expect(intern(table, 'B', 4)).toBe(b);
  });

  it('get(name) finds interned symbols and nothing else', () => {
    const table = new SymbolTable(10);
    const e = intern(table, 'BTC-USD')!;
    expect(table.get('BTC-USD')).toBe(e);
    expect(table.get('ETH-USD')).toBeUndefined();
  });

  it('lists entries in order of first appearance', () => {
    const table = new SymbolTable(10);
    for (const n of ['B', 'A', 'C', 'A', 'B', 'D']) intern(table, n);
    expect(table.entries.map((e) => e.name)).toEqual(['B', 'A', 'C', 'D']);
  });

  it('gives each entry its two topics and a zero sequence', () => {
    const table = new SymbolTable(10);
    const e = intern(table, 'EUR/USD')!;
    expect(e.msgpackTopic).toBe('m:EUR/USD');
    expect(e.jsonTopic).toBe('j:EUR/USD');
    expect(e.seq).toBe(0);
    expect(e.last.length).toBe(0);
  });
});

describe('SymbolEntry.store', () => {
  const entry = (): SymbolEntry => new SymbolEntry('A', enc.encode('A'), 0);
  // The pipeline advances seq before it stores each update.
  const put = (e: SymbolEntry, src: Uint8Array, start: number, end: number): Uint8Array => {
    e.seq++;
    return e.store(src, start, end);
  };
  const bytes = (n: number, seed: number): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

  it('keeps the last stored bytes and returns a view of exactly that length', () => {
    const e = entry();
    const src = new Uint8Array(50).fill(0xee);
    src.set([1, 2, 3, 4, 5], 10);
    const view = put(e, src, 10, 15);
    expect(view.length).toBe(5);
    expect(Array.from(view)).toEqual([1, 2, 3, 4, 5]);
    expect(e.last).toBe(view);
    src.fill(0);
    expect(Array.from(e.last)).toEqual([1, 2, 3, 4, 5]);
  });

  it('copies every length and offset exactly through a caller-given DataView (word copy + tail)', () => {
    const e = entry();
    // A source with a nonzero byteOffset, as a subarray of a larger buffer.
    const backing = bytes(400, 3);
    const src = backing.subarray(5, 395);
    const srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
    for (const start of [0, 1, 2, 3, 7]) {
      for (let len = 0; len <= 70; len++) {
        const expected = Array.from(src.subarray(start, start + len));
        e.seq++;
        expect(Array.from(e.store(src, start, start + len, srcView))).toEqual(expected);
        // Without a view (one is created per call): same bytes.
        e.seq++;
        expect(Array.from(e.store(src, start, start + len))).toEqual(expected);
      }
    }
    // Up to the last byte of the source.
    e.seq++;
    expect(Array.from(e.store(src, 250, 390, srcView))).toEqual(Array.from(src.subarray(250, 390)));
  });

  it('reuses the view object while the length is unchanged', () => {
    const e = entry();
    const v1 = put(e, bytes(40, 1), 0, 40);
    const v2 = put(e, bytes(40, 2), 0, 40);
    expect(v2).toBe(v1);
    expect(Array.from(v2)).toEqual(Array.from(bytes(40, 2)));
  });

  it('replaces the view when the length changes', () => {
    const e = entry();
    const v1 = put(e, bytes(40, 1), 0, 40);
    const v2 = put(e, bytes(41, 2), 0, 41);
    expect(v2).not.toBe(v1);
    expect(v2.length).toBe(41);
    expect(Array.from(v2)).toEqual(Array.from(bytes(41, 2)));
    const v3 = put(e, bytes(30, 3), 0, 30);
    expect(v3).not.toBe(v2);
    expect(Array.from(v3)).toEqual(Array.from(bytes(30, 3)));
    expect(e.last).toBe(v3);
  });

  it('grows its storage past 128 bytes and replaces the view', () => {
    const e = entry();
    const v128 = put(e, bytes(128, 1), 0, 128);
    expect(v128.length).toBe(128);
    const big = bytes(300, 9);
    const v300 = put(e, big, 0, 300);
    expect(v300).not.toBe(v128);
    expect(v300.length).toBe(300);
    expect(Array.from(v300)).toEqual(Array.from(big));
    // Same length after growth: the view is kept.
    expect(put(e, bytes(300, 4), 0, 300)).toBe(v300);
    // Shrinking back keeps the grown storage and stays correct.
    const v10 = put(e, bytes(10, 5), 0, 10);
    expect(Array.from(v10)).toEqual(Array.from(bytes(10, 5)));
  });

  it('keeps the view of grown storage for the next update of the same length', () => {
    const e = entry();
    const v1 = put(e, bytes(129, 1), 0, 129);
    expect(v1.length).toBe(129);
    expect(put(e, bytes(129, 2), 0, 129)).toBe(v1);
  });
});
