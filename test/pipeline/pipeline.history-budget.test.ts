/**
 * The history budget under the shape that found the bug (issue 12, item 7):
 * 400 symbols × 110 valid ~32 KB ticks grew RSS by 1.3 GB and kept it. With
 * `historyBytes`, what the histories hold (their own byte count: rings plus
 * out-of-line updates) stays within the budget after every tick, and every
 * symbol keeps its last value. The full shape is stored through the symbol
 * table (the pipeline's scan of 44,000 frames of 32 KB alone takes seconds);
 * the pipeline runs a tenth of it, with its option.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { SymbolTable } from '../../src/pipeline/symbol-table.js';
import { pack } from '../helpers/clients.js';

const quiet: Publisher = { publish: () => undefined, subscribers: () => 0 };

const SYMBOLS = 400;
const TICKS = 110;
const BUDGET = 32 * 1024 * 1024;

/** A valid tick of about 32 KB: 62 more keys of 250 bytes, each with a 256-byte string. */
function bigTick(s: string): Uint8Array {
  const tick: Record<string, unknown> = { s, p: 1.5 };
  for (let k = 0; k < 62; k++)
    tick[`${String(k).padStart(2, '0')}${'k'.repeat(248)}`] = 'v'.repeat(256);
  return pack(tick);
}

/** What the histories hold, by their own count. */
function historyBytes(table: SymbolTable): number {
  return table.entries.reduce((sum, e) => sum + e.history.byteSize, 0);
}

describe('history budget under many symbols × large ticks', () => {
  it('a symbol table holds at most historyBytes under 400 symbols × 110 updates of ~32 KB', () => {
    const table = new SymbolTable(100_000, 100, { historyBytes: BUDGET });
    const budget = table.historyBudget;
    const updates = Array.from({ length: SYMBOLS }, (_, i) => bigTick(`BIG.${i}`));
    const entries = updates.map((_, i) => table.internName(`BIG.${i}`)!);
    let peak = 0;
    for (let t = 0; t < TICKS; t++) {
      for (let i = 0; i < SYMBOLS; i++) {
        const e = entries[i]!;
        e.seq++;
        e.store(updates[i]!, 0, updates[i]!.length);
        peak = Math.max(peak, budget.bytes);
      }
      expect(budget.bytes).toBe(historyBytes(table) + budget.queueBytes);
    }
    expect(peak).toBeLessThanOrEqual(BUDGET);
    expect(historyBytes(table)).toBeLessThanOrEqual(BUDGET);
    expect(budget.evicted).toBeGreaterThan(SYMBOLS * (TICKS - 10));
    for (const e of entries) {
      expect(e.history.lastSeq).toBe(TICKS);
      expect(Buffer.from(e.last).equals(updates[e.id]!)).toBe(true);
    }
  });

  it('the pipeline passes historyBytes to its table and stays within it, frame by frame', () => {
    // Above the last values of 400 symbols (12.8 MB), which are never evicted.
    const limit = BUDGET / 2;
    const p = new Pipeline(quiet, { history: 100, historyBytes: limit });
    const frames = Array.from({ length: SYMBOLS }, (_, i) => bigTick(`BIG.${i}`));
    expect(frames[0]!.length).toBeGreaterThan(31_000);
    const budget = p.symbols.historyBudget;
    expect(budget.limit).toBe(limit);
    let peak = 0;
    for (let t = 0; t < TICKS / 10; t++) {
      for (const frame of frames) {
        p.process(frame, performance.now());
        if (p.accepted !== 1) throw new Error('tick refused');
        peak = Math.max(peak, budget.bytes);
      }
    }
    expect(peak).toBeLessThanOrEqual(limit);
    expect(budget.bytes).toBe(historyBytes(p.symbols) + budget.queueBytes);
    // Every symbol keeps its last value (the snapshot) and its numbering.
    for (const e of p.symbols.entries) {
      expect(e.seq).toBe(TICKS / 10);
      expect(e.last.length).toBeGreaterThan(31_000);
    }
  });

  it('defaults to 256 MiB', () => {
    expect(new Pipeline(quiet).symbols.historyBudget.limit).toBe(256 * 1024 * 1024);
  });
});
