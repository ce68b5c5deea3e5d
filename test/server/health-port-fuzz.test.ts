/**
 * Fuzzing of the health listener (`--health-port`, node:http) with structure-aware requests
 * (fast-check, fixed seed, the failing request printed): methods, paths, queries, HTTP
 * versions, headers as usual, odd, repeated or oversized, then the bytes broken (flipped, cut,
 * CR/LF/NUL inserted), eight at a time. Every request is answered with a status other than
 * 500, or the connection is closed within the request timeout; the listener keeps serving.
 * The listener runs with a 500 ms request timeout (the server's is 5 s) so that incomplete
 * requests, which are held until that timeout, keep the run short.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HealthListener } from '../../src/server/health-listener.js';
import { rawExchange } from '../helpers/raw-http.js';

const SEED = 0x15_0207;
const RUNS = 25;
const AT_ONCE = 8;
const TIMEOUT_MS = 500;
/** Hang detector, well past the listener's request timeout (not a speed bound). */
const DEADLINE_MS = 5000;

const listener = new HealthListener({ ready: () => true }, { timeoutMs: TIMEOUT_MS });
let port: number;
beforeAll(async () => {
  port = await listener.listen('127.0.0.1', 0);
});
afterAll(async () => {
  await listener.close();
});

const method = fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'POST', 'DELETE', 'get', 'PRI', '');
const path = fc.oneof(
  fc.constantFrom('/', '/healthz', '/readyz', '/healthz/', '//readyz', '/nope', '*', ''),
  fc.stringMatching(/^\/[A-Za-z0-9%._~?=&/-]{0,60}$/),
);
const version = fc.constantFrom('HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', '');
const header = fc.oneof(
  fc.constantFrom<[string, string]>(
    ['Host', '127.0.0.1'],
    ['Host', ''],
    ['Connection', 'keep-alive'],
    ['Content-Length', '0'],
    ['Content-Length', '5'],
    ['Content-Length', '-1'],
    ['Transfer-Encoding', 'chunked'],
    ['Expect', '100-continue'],
    ['Upgrade', 'websocket'],
  ),
  fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), fc.stringMatching(/^[ -~]{0,40}$/)),
  fc.integer({ min: 1000, max: 20_000 }).map((n): [string, string] => ['X-Big', 'b'.repeat(n)]),
);
const request = fc
  .record({
    method,
    path,
    version,
    headers: fc.array(header, { maxLength: 8 }),
    body: fc.constantFrom('', 'hello', '0\r\n\r\n'),
  })
  .map(
    ({ method: m, path: p, version: v, headers, body }) =>
      `${m} ${p} ${v}\r\n${headers.map(([k, val]) => `${k}: ${val}\r\n`).join('')}\r\n${body}`,
  );
const edit = fc.tuple(
  fc.nat(),
  fc.constantFrom('flip', 'insert', 'truncate'),
  fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x3a),
);
const bytes = fc.tuple(request, fc.array(edit, { maxLength: 3 })).map(([req, edits]) => {
  let b = Buffer.from(req, 'latin1');
  for (const [at, kind, byte] of edits) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (kind === 'flip' && b.length > 0) b[i] = b[i]! ^ 0x20;
    else if (kind === 'insert')
      b = Buffer.concat([b.subarray(0, i), Buffer.of(byte), b.subarray(i)]);
    else if (kind === 'truncate') b = b.subarray(0, i);
  }
  return b;
});

async function exchange(b: Buffer, statuses: Set<number>): Promise<void> {
  const x = await rawExchange(port, b, { deadlineMs: DEADLINE_MS });
  const shown = JSON.stringify(b.toString('latin1').slice(0, 300));
  if (!x.closedByServer) throw new Error(`not closed within ${DEADLINE_MS} ms: ${shown}`);
  for (const r of x.responses) {
    if (r.status < 100 || r.status > 599 || r.status === 500) {
      throw new Error(`status ${r.status}: ${shown}`);
    }
    statuses.add(r.status);
  }
}

test(
  `${RUNS * AT_ONCE} requests, well-formed and broken: never 500, never a hang, still serving`,
  { timeout: 60_000 },
  async () => {
    const statuses = new Set<number>();
    const out = await fc.check(
      fc.asyncProperty(
        fc.array(bytes, { minLength: AT_ONCE, maxLength: AT_ONCE }),
        async (batch) => {
          await Promise.all(batch.map((b) => exchange(b, statuses)));
        },
      ),
      // No shrinking: each step is a network exchange.
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    if (out.failed) throw new Error(`fuzz failed (seed ${out.seed}): ${String(out.errorInstance)}`);
    // The fuzz reached answers and refusals.
    for (const s of [200, 400, 404]) expect(statuses.has(s), String(s)).toBe(true);
    const after = await rawExchange(port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(after.responses[0]?.status).toBe(200);
  },
);
