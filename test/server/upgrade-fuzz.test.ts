/**
 * Fuzzing of upgrade requests against a real server (fast-check, fixed
 * seed, printed with the failing request): raw TCP HTTP/1.1 requests with
 * random and odd paths, queries (symbols=, format=, token=, ack=, repeated,
 * percent junk), upgrade headers present, missing, mutated or duplicated,
 * Authorization and Origin variants, odd headers and oversize ones.
 *
 * - Well-formed requests (HTTP/1.1 syntax uWS parses) must be answered with
 *   an HTTP status (101 upgrades are dropped at once) or a clean close of
 *   the connection, never 500 (the last-resort guard catching a bug).
 * - Mutated and truncated requests may also get no answer at all: uWS
 *   ignores a request it cannot parse and drops the connection at its HTTP
 *   idle timeout (about 10 s). What they must not do is break anything:
 *   after each one a request on another connection is answered, and any
 *   answer they do get is not 500.
 *
 * Throughout, a bystander keeps receiving updates, and at the end the guard
 * has caught nothing.
 */
import { type Socket, createConnection } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { TestClient } from '../helpers/clients.js';
import { handlerErrorsCaught } from '../helpers/metrics.js';
import { FEED_TOKEN, KeepAliveHttp, type TestServer, startServer } from '../helpers/server.js';

const SEED = 0x12_0113;
const RUNS = 150;
const BYSTANDER_EVERY = 25;
const STREAM_TOKEN = 'stream-token-fuzz';
const LIVE = 'FZU.LIVE';
/** Hang detector for a request that must be answered (not a speed bound). */
const ANSWER_MS = 10_000;

// ---- Requests -------------------------------------------------------------

const junk = fc.constantFrom('%', '%zz', '%00', '%ff%fe', '+', '%2C', '%0d%0a', '&&', '==', ';');
/** A query value: text percent-encoded, or raw junk (never a space, CR or LF). */
const queryValue = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.constantFrom('*', LIVE, 'AAPL', '', 'bad sym', 'x'.repeat(40), '__proto__'),
        fc.stringMatching(/^[A-Za-z0-9._:/-]{1,32}$/),
      ),
      { maxLength: 6 },
    )
    .map((xs) => xs.map(encodeURIComponent).join(',')),
  fc.constantFrom('msgpack', 'json', 'xml', '', 'JSON', '1', 'true', '0'),
  fc.constantFrom(STREAM_TOKEN, FEED_TOKEN, 'wrong', '', 't'.repeat(5000)),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  junk,
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('symbols', 'format', 'token', 'ack', 'x', 'symbols[]', '', 'TOKEN'),
      queryValue,
      fc.boolean(),
    ),
    { maxLength: 6 },
  )
  .map((params) =>
    params.length === 0
      ? ''
      : `?${params.map(([k, v, bare]) => (bare && v === '' ? k : `${k}=${v}`)).join('&')}`,
  );
const path = fc.constantFrom(
  '/stream',
  '/stream',
  '/feed',
  '/stats/stream',
  '/',
  '/stats',
  '/metrics',
  '/healthz',
  '/readyz',
  '/nope',
  '/stream/',
  '//stream',
  '/STREAM',
  '/feed/x',
  '/admin/loadtest',
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant('GET') },
  { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'DELETE', 'get') },
);
/** A header value uWS parses: printable Latin-1 and tabs. */
const headerValue = fc.string({
  unit: fc.oneof(
    fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' }),
    fc.constantFrom('\t', 'é', 'ÿ'),
  ),
  maxLength: 40,
});
type Header = readonly [string, string];
/** One of the upgrade headers: as usual, odd, or absent (an empty list). */
const variant = (name: string, usual: string, odd: readonly string[]): fc.Arbitrary<Header[]> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Header[]>([[name, usual]]) },
    { weight: 2, arbitrary: fc.constantFrom(...odd).map((v): Header[] => [[name, v]]) },
    { weight: 1, arbitrary: fc.constant<Header[]>([]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...odd).map((v): Header[] => [
        [name, usual],
        [name, v],
      ]),
    },
  );
const headers = fc
  .tuple(
    variant('Host', '127.0.0.1', ['', 'evil.example', 'a:b:c']),
    variant('Upgrade', 'websocket', ['WebSocket', 'h2c', '', 'websocket, h2c']),
    variant('Connection', 'Upgrade', ['upgrade, keep-alive', 'close', 'keep-alive', '']),
    variant('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==', ['!!', '', 'a'.repeat(100), '====']),
    variant('Sec-WebSocket-Version', '13', ['8', '', '13, 13', '99999999999']),
    fc.oneof(
      fc.constant([]),
      fc
        .constantFrom(
          `Bearer ${FEED_TOKEN}`,
          `Bearer ${STREAM_TOKEN}`,
          'Bearer wrong',
          'Basic YTpi',
          'Bearer',
          '',
          `Bearer ${'t'.repeat(5000)}`,
        )
        .chain((v) =>
          fc.constantFrom(
            [['Authorization', v] as const],
            [['Authorization', v] as const, ['Authorization', 'Bearer x'] as const],
          ),
        ),
    ),
    fc.option(fc.constantFrom('http://evil.example', 'null', '', 'http://127.0.0.1')),
    fc.option(fc.constantFrom('permessage-deflate', 'x-odd; a=1', '')),
    fc.option(fc.constantFrom('chat', 'a, b', '')),
    fc.array(fc.tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/), headerValue), { maxLength: 8 }),
    fc.option(fc.integer({ min: 1000, max: 120_000 }), { freq: 8 }),
  )
  .map(
    ([host, upgrade, connection, key, version, auth, origin, extensions, protocol, extra, big]) => {
      const all: Header[] = [...host, ...upgrade, ...connection, ...key, ...version, ...auth];
      if (origin !== null) all.push(['Origin', origin]);
      if (extensions !== null) all.push(['Sec-WebSocket-Extensions', extensions]);
      if (protocol !== null) all.push(['Sec-WebSocket-Protocol', protocol]);
      all.push(...extra);
      if (big !== null) all.push(['X-Big', 'b'.repeat(big)]);
      return all;
    },
  );
const request = fc
  .record({ method, path, query, headers })
  .map(
    ({ method: m, path: p, query: q, headers: hs }) =>
      `${m} ${p}${q} HTTP/1.1\r\n${hs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`,
  );
/** Bytes of a request, broken: flipped, cut, or with CR, LF, NUL, space or colon inserted. */
const broken = fc
  .tuple(
    request,
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
        fc.constantFrom(0x0d, 0x0a, 0x00, 0x20, 0x3a, 0x7f, 0xff, 0x25),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([text, edits]) => {
    let b = Buffer.from(text, 'latin1');
    for (const [at, how, byte] of edits) {
      const i = at % b.length;
      if (how === 'flip') b[i] = b[i]! ^ byte;
      else if (how === 'insert')
        b = Buffer.concat([b.subarray(0, i), Buffer.of(byte), b.subarray(i)]);
      else if (how === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else b = b.subarray(0, i);
    }
    return b;
  });

// ---- Exchanges ------------------------------------------------------------

/** What a raw request got: a status line, or a close with none. */
type Answer = { readonly status: number } | { readonly closed: true };

let ts: TestServer;
let feed: TestClient;
let bystander: TestClient;
let probe: KeepAliveHttp;
let price = 0;
/** Connections that got no answer (uWS drops them at its HTTP timeout); destroyed at the end. */
const held = new Set<Socket>();
/** Answers that came to broken requests after their probe. */
const lateAnswers: Answer[] = [];

beforeAll(async () => {
  ts = await startServer({ streamToken: STREAM_TOKEN });
  feed = await ts.feed();
  bystander = await ts.stream(`symbols=${LIVE}`, {
    headers: { authorization: `Bearer ${STREAM_TOKEN}` },
  });
  await bystander.nextOp('snapshot');
  probe = await KeepAliveHttp.open(ts.port);
});

afterAll(async () => {
  for (const s of held) s.destroy();
  probe.close();
  await ts.stop();
});

/** Writes `bytes` on a new connection; `answer` resolves with the status line or the close. */
function send(bytes: string | Buffer): { socket: Socket; answer: Promise<Answer> } {
  const socket = createConnection({ host: '127.0.0.1', port: ts.port });
  socket.on('error', () => undefined);
  const answer = new Promise<Answer>((resolve) => {
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const line = head.indexOf('\r\n');
      if (line >= 0) resolve({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? -1) });
    });
    socket.on('close', () => resolve({ closed: true }));
  });
  socket.write(bytes);
  return { socket, answer };
}

function problemWith(a: Answer): string | undefined {
  if ('closed' in a) return undefined;
  if (a.status < 100 || a.status > 599) return 'not an HTTP status line';
  if (a.status === 500) return 'HTTP 500: the server failed handling the request';
  return undefined;
}

function show(bytes: string | Buffer): string {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  return `${text.length} bytes: ${JSON.stringify(text.slice(0, 400))}`;
}

async function expectBystanderServed(): Promise<void> {
  const p = ++price;
  feed.sendPack({ s: LIVE, p });
  expect((await bystander.update(10_000)).p).toBe(p);
}

/** Runs `property` over `arb` with the fixed seed; fails with the seed and the request. */
async function fuzz<T extends string | Buffer>(
  arb: fc.Arbitrary<T>,
  property: (req: T) => Promise<void>,
): Promise<void> {
  let runs = 0;
  const out = await fc.check(
    fc.asyncProperty(arb, async (req) => {
      if (++runs % BYSTANDER_EVERY === 0) await expectBystanderServed();
      await property(req);
    }),
    // No shrinking: every step is a network exchange with a stateful server.
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  if (out.failed) {
    const [req] = out.counterexample ?? [];
    throw new Error(
      `fuzz failed (seed ${out.seed}, path ${out.counterexamplePath ?? '-'}, run ${out.numRuns}): ` +
        `${String(out.errorInstance)}; request of ${req === undefined ? '-' : show(req)}`,
    );
  }
}

test(`${RUNS} well-formed upgrade requests: each answered with a status (not 500) or a clean close`, async () => {
  const statuses = new Set<number>();
  await fuzz(request, async (req) => {
    const { socket, answer } = send(req);
    let timer: NodeJS.Timeout | undefined;
    const a = await Promise.race([
      answer,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ANSWER_MS);
      }),
    ]);
    clearTimeout(timer);
    socket.destroy();
    if (a === undefined) throw new Error(`no answer and no close within ${ANSWER_MS} ms`);
    const problem = problemWith(a);
    if (problem !== undefined) throw new Error(problem);
    if ('status' in a) statuses.add(a.status);
  });
  // The fuzz reached upgrades, refusals of each kind, and plain routes.
  for (const status of [101, 401, 404]) expect(statuses.has(status), String(status)).toBe(true);
  await expectBystanderServed();
  expect(await handlerErrorsCaught(ts.httpUrl)).toEqual([]);
});

test(`${RUNS} broken upgrade requests: never 500, and the server keeps serving`, async () => {
  await fuzz(broken, async (req) => {
    const { socket, answer } = send(req);
    // Another connection's request is answered meanwhile (uWS serves one loop).
    const served = probe.get('/healthz').then((res) => {
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
      return undefined;
    });
    const a = await Promise.race([answer, served]);
    if (a === undefined) {
      // No answer yet: uWS may never answer it; any later answer is checked at the end.
      held.add(socket);
      void answer.then((late) => {
        lateAnswers.push(late);
        held.delete(socket);
      });
      return;
    }
    await served;
    socket.destroy();
    const problem = problemWith(a);
    if (problem !== undefined) throw new Error(problem);
  });
  for (const a of lateAnswers) expect(problemWith(a)).toBeUndefined();
  await expectBystanderServed();
  expect(await handlerErrorsCaught(ts.httpUrl)).toEqual([]);
});
