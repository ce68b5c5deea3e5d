/**
 * The optional `Origin` allow-list for the browser-facing WebSocket routes
 * (/stream, /stats/stream). Browsers always send `Origin` on a WebSocket
 * handshake and scripts cannot forge it, so the list stops other sites'
 * pages from opening sockets with a visitor's ambient access (cross-site
 * WebSocket hijacking). Non-browser clients (feeds, tools, SDK in Node)
 * send no `Origin`; a request without one is allowed.
 */
export class OriginPolicy {
  /** Undefined: any origin. */
  readonly #allowed: ReadonlySet<string> | undefined;

  /** `allowed`: exact `scheme://host[:port]` values; undefined allows any. */
  constructor(allowed: readonly string[] | undefined) {
    this.#allowed = allowed === undefined ? undefined : new Set(allowed.map((o) => normalize(o)));
  }

  /** True when a list is configured (otherwise every origin is allowed). */
  get restricted(): boolean {
    return this.#allowed !== undefined;
  }

  /**
   * Whether a handshake with this `Origin` header may open a socket. `''`
   * (header absent) is allowed; so is anything when no list is configured.
   * Compared exactly, except that case and a trailing slash are ignored.
   */
  allows(origin: string): boolean {
    if (this.#allowed === undefined || origin === '') return true;
    return this.#allowed.has(normalize(origin));
  }
}

function normalize(origin: string): string {
  const o = origin.trim().toLowerCase();
  return o.endsWith('/') ? o.slice(0, -1) : o;
}
