/**
 * The built-in synthetic feed for `--demo`: random-walk prices for a few
 * dozen symbols, encoded as MessagePack batch frames exactly as an external
 * feed would send them, and handed to the same pipeline entry point.
 */
import { Packr } from 'msgpackr';
import { nowUs } from './clock.js';

const NAMES = [
  'AAPL',
  'MSFT',
  'NVDA',
  'AMZN',
  'GOOGL',
  'META',
  'TSLA',
  'AVGO',
  'JPM',
  'V',
  'MA',
  'UNH',
  'XOM',
  'JNJ',
  'PG',
  'HD',
  'COST',
  'ABBV',
  'MRK',
  'KO',
  'PEP',
  'BAC',
  'NFLX',
  'AMD',
  'CRM',
  'ORCL',
  'ADBE',
  'INTC',
  'CSCO',
  'DIS',
  'BTC-USD',
  'ETH-USD',
  'SOL-USD',
  'EUR/USD',
  'GBP/USD',
  'USD/JPY',
  'XAU/USD',
  'ES.FUT',
  'NQ.FUT',
  'CL.FUT',
];

const PACKER = new Packr({ useRecords: false });
const INTERVAL_MS = 20;

export interface DemoFeedOptions {
  readonly symbols: number;
  readonly ticksPerSecond: number;
}

export type FrameSink = (frame: Uint8Array) => void;

export function demoSymbols(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(i < NAMES.length ? NAMES[i]! : `SYM${String(i + 1).padStart(4, '0')}`);
  }
  return out;
}

export class DemoFeed {
  readonly symbols: readonly string[];
  readonly #prices: Float64Array;
  readonly #rate: number;
  readonly #sink: FrameSink;
  #timer: NodeJS.Timeout | undefined;
  #carry = 0;
  #next = 0;

  constructor(options: DemoFeedOptions, sink: FrameSink) {
    this.symbols = demoSymbols(options.symbols);
    this.#prices = Float64Array.from(this.symbols, (_, i) => 20 + ((i * 37) % 480));
    this.#rate = options.ticksPerSecond;
    this.#sink = sink;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      // Below one tick per interval some intervals are due nothing: send no
      // empty batch then (it would only inflate frames.received).
      const due = this.#due();
      if (due > 0) this.#sink(this.frame(due));
    }, INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Ticks due this interval, carrying fractions so the average rate is exact. */
  #due(): number {
    this.#carry += (this.#rate * INTERVAL_MS) / 1000;
    const n = Math.floor(this.#carry);
    this.#carry -= n;
    return n;
  }

  /** One batch frame of `count` ticks, cycling through the symbols. */
  frame(count: number): Uint8Array {
    const ticks: Record<string, unknown>[] = [];
    const t = BigInt(nowUs());
    for (let k = 0; k < count; k++) {
      const i = this.#next;
      this.#next = (i + 1) % this.symbols.length;
      const prev = this.#prices[i]!;
      const p = Math.max(0.01, cents(prev * (1 + (Math.random() - 0.5) * 0.002)));
      this.#prices[i] = p;
      const spread = Math.max(0.01, cents(p * 0.0002));
      ticks.push({
        s: this.symbols[i],
        p,
        q: 1 + Math.floor(Math.random() * 500),
        b: cents(p - spread),
        a: cents(p + spread),
        t,
      });
    }
    return PACKER.pack(ticks);
  }
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}
