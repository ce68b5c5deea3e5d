/**
 * Hash flooding (issue 12, item 6): symbols chosen so that the old, unkeyed
 * FNV-1a hashes share their low 18 bits used to land in one probe chain, so
 * each insert and lookup walked all of them. With a keyed hash and a bound
 * on probe length, the work per insert and per lookup stays bounded. The
 * work is measured in probes (slots examined), not time.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PROBE, type SymbolEntry, SymbolTable } from '../../src/pipeline/symbol-table.js';
import { fnv1a as scanHash, symbolHash } from '../../src/pipeline/symbol-hash.js';
import { fnv1a, fnvCollidingSymbols } from './fnv-collisions.js';

const enc = new TextEncoder();
const COUNT = 8192;
const symbols = fnvCollidingSymbols(COUNT, 18);
// Fixed keys make the probe counts reproducible; which symbols collide under
// them is as unknown to the generator as under a random key.
const KEYS = [
  { k0: 0x01234567, k1: 0x89abcdef },
  { k0: 0x7f4a7c15, k1: 0x2545f491 },
];

function intern(table: SymbolTable, name: string, at: number): SymbolEntry | undefined {
  const bytes = enc.encode(name);
  const buf = new Uint8Array(at + bytes.length + 3);
  buf.set(bytes, at);
  return table.intern(buf, at, bytes.length, scanHash(buf, at, bytes.length));
}

describe('symbol table under FNV-1a collisions', () => {
  it('the input really collides under FNV-1a (low 18 bits equal)', () => {
    expect(new Set(symbols).size).toBe(COUNT);
    expect(new Set(symbols.map((s) => fnv1a(s) & 0x3ffff)).size).toBe(1);
    for (const s of symbols) expect(s).toMatch(/^[A-Z0-9]{1,32}$/);
  });

  for (const hashKey of KEYS) {
    it(`interns all of them with bounded probes (key ${hashKey.k0.toString(16)})`, () => {
      const table = new SymbolTable(100_000, 1, { hashKey });
      const entries = symbols.map((s, i) => intern(table, s, i % 5));
      expect(entries.every((e) => e !== undefined)).toBe(true);
      expect(table.size).toBe(COUNT);
      expect(table.longestProbe).toBeLessThanOrEqual(MAX_PROBE);
      // Slots examined per insert, on average: a few, not thousands.
      const insertProbes = table.probes;
      expect(insertProbes / COUNT).toBeLessThan(4);
      // Lookups of every one find the same entry, also in a few probes.
      symbols.forEach((s, i) => expect(intern(table, s, 7)).toBe(entries[i]));
      expect((table.probes - insertProbes) / COUNT).toBeLessThan(4);
      expect(table.size).toBe(COUNT);
    });
  }
});

describe('symbol table when the key is known (the worst case)', () => {
  it('bounds the probes of every insert and refuses what does not fit within MAX_PROBE', () => {
    const hashKey = KEYS[0]!;
    // 100 symbols at most: 1024 slots, grown to 4096 at most; so symbols that
    // agree on the low 12 bits of their keyed hash share one chain at any size.
    const chain: string[] = [];
    for (let k = 0; chain.length < MAX_PROBE + 8; k++) {
      const s = `K${k.toString(36).toUpperCase()}`;
      const b = enc.encode(s);
      if ((symbolHash(hashKey.k0, hashKey.k1, b, 0, b.length) & 0xfff) === 0x123) chain.push(s);
    }
    const table = new SymbolTable(100, 1, { hashKey });
    const entries = chain.map((s) => intern(table, s, 0));
    const kept = entries.filter((e) => e !== undefined);
    expect(kept.length).toBe(MAX_PROBE + 1);
    expect(table.probeRefusals).toBe(chain.length - kept.length);
    expect(table.longestProbe).toBe(MAX_PROBE);
    // Known or refused, no lookup examines more than MAX_PROBE + 1 slots.
    const before = table.probes;
    for (const s of chain) intern(table, s, 3);
    expect(table.probes - before).toBeLessThanOrEqual(chain.length * (MAX_PROBE + 1));
    chain.forEach((s, i) => {
      if (entries[i] !== undefined) expect(intern(table, s, 1)).toBe(entries[i]);
    });
    // A symbol outside the chain still gets in.
    expect(intern(table, 'OTHER', 0)).toBeDefined();
  });
});

describe('hash keys', () => {
  it('each table draws its own: the same symbols hash differently', () => {
    const names = ['AAPL', 'MSFT', 'BTC-USD', 'EUR/USD'];
    const a = new SymbolTable(10);
    const b = new SymbolTable(10);
    const hashesA = names.map((n) => intern(a, n, 0)!.hash);
    const hashesB = names.map((n) => intern(b, n, 0)!.hash);
    expect(hashesA).not.toEqual(hashesB);
  });
});
