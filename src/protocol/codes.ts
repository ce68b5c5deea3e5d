/**
 * The one catalogue of wire error codes and close codes. The server, the
 * client SDK and the docs all name codes from here; tests assert these codes,
 * never message texts. No `node:` imports: this module is shared with clients.
 */
export const ErrorCode = {
  BadFrame: 'bad_frame',
  BadTick: 'bad_tick',
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  RateLimited: 'rate_limited',
  TooManySubscriptions: 'too_many_subscriptions',
  PayloadTooLarge: 'payload_too_large',
  SlowConsumer: 'slow_consumer',
  /**
   * Close reason of 1011 when the server failed handling a connection (a
   * bug caught by the last-resort guard, server/guard.ts); HTTP 500 body.
   */
  InternalError: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze(Object.values(ErrorCode));

/** RFC 6455 close codes the server uses. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Largest number of ticks in one batch frame. */
export const MAX_BATCH = 4096;
/** Symbol length bounds, in bytes. */
export const MIN_SYMBOL_BYTES = 1;
export const MAX_SYMBOL_BYTES = 32;
/** Longest string value (and key) forwarded in a tick, in bytes. */
export const MAX_STRING_BYTES = 256;
/** Most keys in one tick map (including s and p). */
export const MAX_TICK_KEYS = 64;
/** Indices listed in one bad_tick reply. */
export const MAX_REPORTED_INDICES = 16;
/** The wildcard symbol. */
export const ALL_SYMBOLS = '*';
