/**
 * One subscriber's throttled subscriptions (`subscribe` with `throttle: MS`):
 * which symbols are throttled at how many ms, and one interval timer per
 * distinct MS. A throttled symbol's topic is not subscribed; on each tick
 * the owner (conflation.ts) sends the latest update of each symbol of that
 * MS whose `n` advanced since the last send, so a symbol gets at most one
 * update per MS, always the latest.
 *
 * Latest wins: subscribing a symbol again sets its MS; 0 makes it live.
 * The throttle of "*" applies to every symbol while "*" is held; named
 * throttles are kept and apply again once "*" is dropped.
 */
import { ALL_SYMBOLS } from '../protocol/codes.js';

/** Throttles below this are raised to it: a timer per few ms per socket costs CPU for nothing. */
export const MIN_THROTTLE_MS = 10;
/** Node timers cannot wait longer than 2^31 - 1 ms. */
export const MAX_THROTTLE_MS = 2_147_483_647;

export class Throttle {
  readonly #onTick: (ms: number) => void;
  /** Named symbols with a throttle > 0. */
  readonly #msOf = new Map<string, number>();
  #allMs = 0;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #cursors = new Map<number, number>();

  constructor(onTick: (ms: number) => void) {
    this.#onTick = onTick;
  }

  /** The throttle of "*" (0: live). */
  get allMs(): number {
    return this.#allMs;
  }

  /** The throttle of a named symbol (0: live). */
  msFor(symbol: string): number {
    return this.#msOf.get(symbol) ?? 0;
  }

  /** Whether any subscription is throttled (a timer runs). */
  get active(): boolean {
    return this.#timers.size > 0;
  }

  /** Applies a subscribe's throttle to its symbols ("*" included); 0 = live. */
  set(symbols: readonly string[], requestedMs: number): void {
    const ms =
      requestedMs <= 0 ? 0 : Math.min(MAX_THROTTLE_MS, Math.max(MIN_THROTTLE_MS, requestedMs));
    for (const s of symbols) {
      if (s === ALL_SYMBOLS) this.#allMs = ms;
      else if (ms > 0) this.#msOf.set(s, ms);
      else this.#msOf.delete(s);
    }
  }

  /** Forgets the throttles of unsubscribed symbols ("*" included). */
  remove(symbols: readonly string[]): void {
    for (const s of symbols) {
      if (s === ALL_SYMBOLS) this.#allMs = 0;
      else this.#msOf.delete(s);
    }
  }

  /** Named symbols throttled at `ms`. */
  namesAt(ms: number): string[] {
    const out: string[] = [];
    for (const [s, m] of this.#msOf) if (m === ms) out.push(s);
    return out;
  }

  /** Where the next send for `ms` starts in its list (when a tick stopped early). */
  cursor(ms: number): number {
    return this.#cursors.get(ms) ?? 0;
  }

  setCursor(ms: number, at: number): void {
    this.#cursors.set(ms, at);
  }

  /**
   * Runs one timer per MS in use: only the throttle of "*" while `all`,
   * else one per distinct named throttle.
   */
  sync(all: boolean): void {
    const wanted = new Set<number>();
    if (all) {
      if (this.#allMs > 0) wanted.add(this.#allMs);
    } else {
      for (const ms of this.#msOf.values()) wanted.add(ms);
    }
    for (const [ms, timer] of this.#timers) {
      if (wanted.has(ms)) continue;
      clearInterval(timer);
      this.#timers.delete(ms);
      this.#cursors.delete(ms);
    }
    for (const ms of wanted) {
      if (this.#timers.has(ms)) continue;
      const timer = setInterval(() => this.#onTick(ms), ms);
      timer.unref();
      this.#timers.set(ms, timer);
    }
  }

  /** Stops every timer (the connection closed). */
  stop(): void {
    for (const timer of this.#timers.values()) clearInterval(timer);
    this.#timers.clear();
    this.#cursors.clear();
  }
}
