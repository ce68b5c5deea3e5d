/**
 * Token checks for the WebSocket upgrades. Tokens come from the
 * `Authorization: Bearer` header or the `token` query parameter, and are
 * compared in constant time (over SHA-256 digests, so neither the content nor
 * the length leaks through timing). Tokens are never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** A precomputed expected token. */
export class TokenCheck {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = digest(token);
  }

  matches(candidate: string | undefined): boolean {
    if (candidate === undefined || candidate === '') return false;
    return timingSafeEqual(digest(candidate), this.#expected);
  }
}

/** The token presented in an upgrade request, if any. Header wins over query. */
export function presentedToken(authorization: string, query: URLSearchParams): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (m !== null) return m[1]!.trim();
  return query.get('token') ?? undefined;
}
