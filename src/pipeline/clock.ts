/**
 * Server clock in microseconds since the Unix epoch, from the monotonic
 * high-resolution timer anchored at process start (performance.timeOrigin).
 * performance.now() costs about 43 ns here (FIELD-NOTES), the same as
 * Date.now(), and gives sub-millisecond resolution.
 */
const ORIGIN_MS = performance.timeOrigin;

/** Microseconds since the epoch, as an integer. */
export function nowUs(): number {
  return Math.floor((ORIGIN_MS + performance.now()) * 1000);
}

/** Microseconds since the epoch for a performance.now() reading. */
export function perfToUs(perfMs: number): number {
  return Math.floor((ORIGIN_MS + perfMs) * 1000);
}
