/**
 * The age of an update: the time since its `r` (the server's timestamp, µs
 * since the epoch) on the server's clock, not since the browser received
 * it. A browser's clock may be off from the server's by any amount (another
 * machine, no NTP), so the server's clock is estimated from the `time` (ms)
 * of each /stats/stream snapshot: offset = time − the browser's Date.now()
 * on arrival, which is the true offset minus the snapshot's trip; the
 * largest of the last few offsets (the fastest trip) is used.
 *
 * No DOM: unit-tested in Node (test/web/update-age.test.ts).
 */

/** Snapshots the offset estimate looks back over (one per second). */
const OFFSET_SAMPLES = 10;

export class ServerClock {
  readonly #offsets: number[] = [];

  /** A reading of the server's clock (`serverMs`) that arrived at browser time `localMs`. */
  observe(serverMs: number, localMs: number): void {
    if (!Number.isFinite(serverMs) || !Number.isFinite(localMs)) return;
    this.#offsets.push(serverMs - localMs);
    if (this.#offsets.length > OFFSET_SAMPLES) this.#offsets.shift();
  }

  /** The server's time (ms) at browser time `localMs`; the browser's own before any reading. */
  now(localMs: number): number {
    return this.#offsets.length === 0 ? localMs : localMs + Math.max(...this.#offsets);
  }
}

/** Milliseconds from `rUs` (µs, server clock) to `serverNowMs`; never negative. */
export function ageMs(rUs: number, serverNowMs: number): number {
  return Math.max(0, serverNowMs - rUs / 1000);
}

/** "850 ms", "4.2 s", ">1 min". */
export function fmtAge(ms: number): string {
  return ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : '>1 min';
}
