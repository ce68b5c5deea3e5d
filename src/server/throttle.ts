/**
 * One subscriber's throttled subscriptions (`subscribe` with `throttle: MS`):
 * which symbols are throttled at how many ms, grouped by MS, and one
 * interval timer per group in use. A throttled symbol's topic is not
 * subscribed; on each tick the owner (conflation.ts) sends the latest
 * update of each symbol of the group whose `n` advanced since the last
 * send, so a symbol gets at most one update per MS, always the latest.
 * A tick looks only at what changed since the group's last pass (its
 * stamp on the pipeline's ChangeLog), never at the whole table.
 *
 * Latest wins: subscribing a symbol again sets its MS; 0 makes it live.
 * The throttle of "*" applies to every symbol while "*" is held (named
 * groups' timers pause); named throttles are kept and apply again once "*"
 * is dropped.
 *
 * Why MS is quantised: a timer per distinct MS let one connection with
 * 10,000 subscriptions at 10, 11, 12, … ms run 10,000 timers (82% CPU with
 * no symbol ever published). Requested values are rounded up to the next
 * step of THROTTLE_STEPS (never more than a third longer, and "at most one
 * update per MS" still holds), so a connection runs at most
 * MAX_THROTTLE_GROUPS timers. Every change costs O(1) per symbol named;
 * toggling "*" costs O(groups).
 */
/** Throttles below this are raised to it: a timer per few ms per socket costs CPU for nothing. */
export const MIN_THROTTLE_MS = 10;
/** Node timers cannot wait longer than 2^31 - 1 ms. */
export const MAX_THROTTLE_MS = 2_147_483_647;
/** Steps per power of ten a throttle is rounded up to (10, 13, 15, 20, …, 80, 100, 125, …). */
const STEPS = [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8] as const;

/** Every throttle value in use after rounding, ascending (the last is MAX_THROTTLE_MS). */
export const THROTTLE_STEPS: readonly number[] = buildSteps();
/** Most throttle groups (timers) one connection can have. */
export const MAX_THROTTLE_GROUPS = THROTTLE_STEPS.length;

function buildSteps(): number[] {
  const out: number[] = [];
  for (let decade = MIN_THROTTLE_MS; decade <= MAX_THROTTLE_MS; decade *= 10) {
    for (const step of STEPS) {
      const ms = Math.round(step * decade);
      if (ms < MAX_THROTTLE_MS) out.push(ms);
    }
  }
  out.push(MAX_THROTTLE_MS);
  return out;
}

/** A requested throttle as applied: 0 stays 0 (live), else the next step at or above it. */
export function quantiseThrottle(requestedMs: number): number {
  if (requestedMs <= 0) return 0;
  // Binary search for the first step >= requestedMs.
  let lo = 0;
  let hi = THROTTLE_STEPS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (THROTTLE_STEPS[mid]! < requestedMs) lo = mid + 1;
    else hi = mid;
  }
  return THROTTLE_STEPS[lo]!;
}

/** The pipeline's ChangeLog as a Throttle uses it: a clock that steps per update recorded. */
export interface ChangeClock {
  readonly clock: number;
  /** Updates are recorded from now on (returns the clock). */
  addReader(): number;
  removeReader(): void;
}

/** The symbols sharing one throttle, and where their next send stands. */
export interface ThrottleGroup {
  /** Named symbols throttled at this MS (empty for the group of "*"). */
  readonly names: ReadonlySet<string>;
  /** Where the next pass over `names` starts (one that stopped early). */
  cursor: number;
  /**
   * The change clock at the group's last complete pass: the symbols that
   * changed after it are the only ones that can have advanced. Set to the
   * clock when the group is made (the subscribe that made it has brought
   * the client up to date on its symbols); kept while its timer pauses, so
   * the first pass after covers what changed meanwhile.
   */
  stamp: number;
}

interface Group extends ThrottleGroup {
  readonly names: Set<string>;
  timer: NodeJS.Timeout | undefined;
}

export class Throttle {
  readonly #onTick: (ms: number) => void;
  readonly #changes: ChangeClock;
  /** Named symbols with a throttle > 0. */
  readonly #msOf = new Map<string, number>();
  /** Named symbols by throttle; a group exists while it has symbols. */
  readonly #groups = new Map<number, Group>();
  /** The group of "*" (names stay empty). */
  readonly #all: Group = { names: new Set(), cursor: 0, stamp: 0, timer: undefined };
  #allMs = 0;
  /** "*" is held: only the "*" timer runs. */
  #holdingAll = false;
  #stopped = false;
  /** Registered as a reader of the change log: from the first group made until stop(). */
  #reading = false;

  constructor(onTick: (ms: number) => void, changes: ChangeClock) {
    this.#onTick = onTick;
    this.#changes = changes;
  }

  /** The throttle of "*" (0: live). */
  get allMs(): number {
    return this.#allMs;
  }

  /** The throttle of a named symbol (0: live). */
  msFor(symbol: string): number {
    return this.#msOf.get(symbol) ?? 0;
  }

  /** Timers running (for tests and diagnostics). */
  get timers(): number {
    let n = this.#all.timer === undefined ? 0 : 1;
    for (const g of this.#groups.values()) if (g.timer !== undefined) n++;
    return n;
  }

  /** Sets a named symbol's throttle (already quantised; 0: live). */
  setNamed(symbol: string, ms: number): void {
    const old = this.#msOf.get(symbol) ?? 0;
    if (old === ms) return;
    if (old > 0) this.#leave(symbol, old);
    if (ms === 0) {
      this.#msOf.delete(symbol);
      return;
    }
    this.#msOf.set(symbol, ms);
    let g = this.#groups.get(ms);
    if (g === undefined) {
      g = { names: new Set(), cursor: 0, stamp: this.#stampNow(), timer: undefined };
      this.#groups.set(ms, g);
      if (!this.#holdingAll) this.#start(g, ms);
    }
    g.names.add(symbol);
  }

  /** Forgets an unsubscribed symbol's throttle. */
  removeNamed(symbol: string): void {
    const old = this.#msOf.get(symbol);
    if (old === undefined) return;
    this.#msOf.delete(symbol);
    this.#leave(symbol, old);
  }

  /**
   * "*" is held with throttle `ms` (already quantised; 0: live): named timers
   * pause. The caller has brought the client up to date on every symbol.
   */
  holdAll(ms: number): void {
    if (!this.#holdingAll) {
      this.#holdingAll = true;
      for (const g of this.#groups.values()) this.#halt(g);
    }
    if (ms === this.#allMs && (ms === 0 || this.#all.timer !== undefined)) return;
    this.#halt(this.#all);
    this.#allMs = ms;
    if (ms === 0) return;
    this.#all.stamp = this.#stampNow();
    this.#all.cursor = 0;
    this.#start(this.#all, ms);
  }

  /** "*" was dropped: its throttle goes, named timers resume. */
  releaseAll(): void {
    this.#halt(this.#all);
    this.#allMs = 0;
    if (!this.#holdingAll) return;
    this.#holdingAll = false;
    for (const [ms, g] of this.#groups) this.#start(g, ms);
  }

  /**
   * The group a tick for `ms` serves: the "*" group while "*" is held,
   * else the named group (undefined when none is in use at `ms`).
   */
  groupAt(ms: number): ThrottleGroup | undefined {
    if (this.#holdingAll) return ms === this.#allMs ? this.#all : undefined;
    return this.#groups.get(ms);
  }

  /** Stops every timer (the connection closed or is being closed). */
  stop(): void {
    this.#stopped = true;
    if (this.#reading) {
      this.#reading = false;
      this.#changes.removeReader();
    }
    this.#halt(this.#all);
    for (const g of this.#groups.values()) this.#halt(g);
  }

  /** The change clock now, for a group being made; the first one registers this throttle as a reader. */
  #stampNow(): number {
    if (this.#reading || this.#stopped) return this.#changes.clock;
    this.#reading = true;
    return this.#changes.addReader();
  }

  #leave(symbol: string, ms: number): void {
    const g = this.#groups.get(ms);
    if (g === undefined) return;
    g.names.delete(symbol);
    if (g.names.size > 0) return;
    this.#halt(g);
    this.#groups.delete(ms);
  }

  #start(g: Group, ms: number): void {
    if (this.#stopped || g.timer !== undefined) return;
    g.timer = setInterval(() => this.#onTick(ms), ms);
    g.timer.unref();
  }

  #halt(g: Group): void {
    if (g.timer === undefined) return;
    clearInterval(g.timer);
    g.timer = undefined;
  }
}
