/**
 * The answers of the two probe routes, /healthz (liveness) and /readyz
 * (readiness): status and JSON body. One definition for the main port
 * (http-routes.ts, uWS) and the plain health port (health-listener.ts,
 * node:http), so a probe gets the same answer on either.
 */

export interface ProbeAnswer {
  /** The status code, e.g. 503. */
  readonly status: number;
  /** The status line after the version, e.g. `503 Service Unavailable` (uWS's writeStatus). */
  readonly statusLine: string;
  readonly body: string;
}

export const PROBE_CONTENT_TYPE = 'application/json; charset=utf-8';

/** /healthz: 200 while the process runs and its event loop turns. */
export const HEALTHZ: ProbeAnswer = Object.freeze({
  status: 200,
  statusLine: '200 OK',
  body: '{"status":"ok"}',
});

const READY: ProbeAnswer = Object.freeze({
  status: 200,
  statusLine: '200 OK',
  body: '{"status":"ready"}',
});

const NOT_READY: ProbeAnswer = Object.freeze({
  status: 503,
  statusLine: '503 Service Unavailable',
  body: '{"status":"not ready"}',
});

/** /readyz: 200 while the server should get traffic, else 503 (see TickwireServer.ready). */
export function readyzAnswer(ready: boolean): ProbeAnswer {
  return ready ? READY : NOT_READY;
}
