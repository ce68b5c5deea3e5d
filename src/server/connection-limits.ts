/**
 * Open WebSocket connections, counted globally and per remote address, and
 * checked against `maxConnections` / `maxConnectionsPerIp` (0: unlimited).
 *
 * A connection is counted when it opens and released when it closes (uWS
 * calls `open` synchronously inside `res.upgrade()` and `close` exactly once
 * per opened socket), so a refused or aborted upgrade never holds a slot:
 * the upgrade handler only asks `check()`.
 */

/** What `check()` says about one more connection from an address. */
export const LimitVerdict = {
  Ok: 0,
  /** maxConnections reached. */
  Global: 1,
  /** maxConnectionsPerIp reached for this address. */
  PerIp: 2,
} as const;
export type LimitVerdict = (typeof LimitVerdict)[keyof typeof LimitVerdict];

export class ConnectionLimits {
  readonly #max: number;
  readonly #maxPerIp: number;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  /** `max`, `maxPerIp`: most open connections; 0 means unlimited. */
  constructor(max: number, maxPerIp: number) {
    this.#max = max;
    this.#maxPerIp = maxPerIp;
  }

  /** Open connections counted. */
  get total(): number {
    return this.#total;
  }

  /** Distinct addresses with at least one open connection. */
  get addresses(): number {
    return this.#perIp.size;
  }

  /** Open connections from `ip`. */
  countFor(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /** Whether one more connection from `ip` fits. Counts nothing. */
  check(ip: string): LimitVerdict {
    if (this.#max > 0 && this.#total >= this.#max) return LimitVerdict.Global;
    if (this.#maxPerIp > 0 && (this.#perIp.get(ip) ?? 0) >= this.#maxPerIp)
      return LimitVerdict.PerIp;
    return LimitVerdict.Ok;
  }

  /** A connection from `ip` opened. */
  opened(ip: string): void {
    this.#total++;
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
  }

  /** A connection from `ip` closed (once per `opened`). */
  released(ip: string): void {
    const n = this.#perIp.get(ip);
    if (n === undefined) return;
    this.#total--;
    if (n <= 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n - 1);
  }
}
