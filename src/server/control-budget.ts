/**
 * Per-subscriber budget for control messages on /stream: a TokenBucket (rate-limit.ts) of
 * `burst` tokens refilled at `perSecond`, full at connect.
 *
 * Why: a control message is tiny, but what it asks for is not. A subscribe
 * to "*" makes the server build a snapshot of every symbol (and convert
 * each one to JSON for a JSON client), a `since` replay reads history, and
 * switching "*" on and off re-subscribes every named topic. Without a
 * budget, a few hundred 34-byte frames kept the event loop busy for
 * seconds. So a subscribe or unsubscribe takes one token, plus one per
 * SYMBOLS_PER_TOKEN symbols of work it asks for (see `workTokens`). Pings
 * and malformed messages are free: their cost is one small reply, which a
 * client that does not read pays for as a slow consumer. The rate and burst
 * are --control-rate and --control-burst (defaults 20/s and 200: generous
 * for a dashboard, which subscribes once at connect and then changes a few
 * symbols now and then). A
 * message that finds too few tokens is refused (`rate_limited`) and not
 * applied; a cost larger than the whole bucket passes only on a full
 * bucket, so one "*" subscribe always works on a fresh connection.
 *
 * A connection refused again and again, with no pause of QUIET_MS between
 * two refusals, for PERSIST_MS, is told to close (1008 `rate_limited`), as
 * feeds are (the same TokenBucket).
 *
 * Plain arithmetic on this per-connection object: nothing is allocated.
 */

/** One more token per this many symbols a subscribe or unsubscribe makes the server touch. */
export const SYMBOLS_PER_TOKEN = 1000;

/** Tokens beyond the first for a request that touches `symbols` symbols. */
export function workTokens(symbols: number): number {
  return Math.floor(symbols / SYMBOLS_PER_TOKEN);
}
