/**
 * Admission of WebSocket upgrades, checked first in every route's upgrade
 * handler, before the token and anything else (and before anything async:
 * uWS's request and response objects are only valid during the call):
 *
 * 1. framing headers that conflict (http-framing.ts): 400 `bad_request: …`,
 *    and the connection closed before anything after the request is parsed
 * 2. shutting down: 503 `unavailable: server shutting down`
 * 3. maxConnections reached: 503 `unavailable: connection limit reached`
 * 4. maxConnectionsPerIp reached for the remote address: 429
 *    `rate_limited: too many connections from this address`
 * 5. (/stream, /stats/stream) an `Origin` header not in allowedOrigins: 403
 *    `unauthorized: origin not allowed`; no `Origin` header is allowed.
 *
 * Refusals close the HTTP connection after the answer. `unavailable` is an
 * HTTP-only body prefix, never a wire error code. The remote address is the
 * TCP peer's (no X-Forwarded-For: behind a proxy every client would share
 * the proxy's address).
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { ErrorCode } from '../protocol/codes.js';
import { ConnectionLimits, LimitVerdict } from './connection-limits.js';
import { framingAccepted } from './http-framing.js';
import { OriginPolicy } from './origin.js';
import { RefusalCounts } from './refusals.js';
import { refuseUpgrade, remoteAddress } from './upgrade.js';

/** Body prefix of the HTTP 503 refusals (not a wire error code). */
export const UNAVAILABLE = 'unavailable';

export class Admission {
  readonly refused = new RefusalCounts();
  readonly limits: ConnectionLimits;
  readonly #origins: OriginPolicy;
  #closed = false;

  constructor(config: Pick<Config, 'maxConnections' | 'maxConnectionsPerIp' | 'allowedOrigins'>) {
    this.limits = new ConnectionLimits(config.maxConnections, config.maxConnectionsPerIp);
    this.#origins = new OriginPolicy(config.allowedOrigins);
  }

  /**
   * Checks an upgrade; call it first, synchronously, in the upgrade handler.
   * Returns the remote address to keep in the socket's data (and hand to
   * `opened`/`released`), or undefined when the upgrade was refused (the
   * response is already sent).
   */
  admit(res: HttpResponse, req: HttpRequest, checkOrigin: boolean): string | undefined {
    if (!framingAccepted(res, req)) return undefined;
    const ip = remoteAddress(res);
    if (this.#closed) {
      refuseUpgrade(res, '503 Service Unavailable', `${UNAVAILABLE}: server shutting down`);
      return undefined;
    }
    const verdict = this.limits.check(ip);
    if (verdict === LimitVerdict.Global) {
      this.refused.connectionsGlobal++;
      refuseUpgrade(res, '503 Service Unavailable', `${UNAVAILABLE}: connection limit reached`, 1);
      return undefined;
    }
    if (verdict === LimitVerdict.PerIp) {
      this.refused.connectionsPerIp++;
      refuseUpgrade(
        res,
        '429 Too Many Requests',
        `${ErrorCode.RateLimited}: too many connections from this address`,
        1,
      );
      return undefined;
    }
    if (checkOrigin && !this.#origins.allows(req.getHeader('origin'))) {
      this.refused.origin++;
      refuseUpgrade(res, '403 Forbidden', `${ErrorCode.Unauthorized}: origin not allowed`);
      return undefined;
    }
    return ip;
  }

  /** A socket admitted from `ip` opened (call in the route's `open`). */
  opened(ip: string): void {
    this.limits.opened(ip);
  }

  /** A socket from `ip` closed (call in the route's `close`). */
  released(ip: string): void {
    this.limits.released(ip);
  }

  /** Admits nothing from now on (graceful stop). */
  close(): void {
    this.#closed = true;
  }
}
