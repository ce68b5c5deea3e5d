/**
 * The health probes people use, byte for byte as those clients send them
 * (captured from the tools against a plain TCP listener): `curl -I`, GNU
 * `wget --spider` (both HEAD over HTTP/1.1, kept alive), and BusyBox `wget`
 * (`-q -O-` and `--spider` send the same GET with `Connection: close`).
 * When curl is installed, `curl -fsI` itself is run too. Each gets /healthz
 * and /readyz answered 200; HEAD without a body.
 */
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rawExchange } from '../helpers/raw-http.js';
import { type TestServer, startServer } from '../helpers/server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startServer();
});

afterAll(async () => {
  await ts.stop();
});

const PATHS = ['/healthz', '/readyz'];

/** Request heads as each tool wrote them (the Host port is the server's). */
const CLIENTS: Record<string, (path: string, host: string) => string> = {
  // curl 7.88.1 -I
  'curl -I': (path, host) =>
    `HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n`,
  // GNU Wget 1.21.3 -q --spider
  'GNU wget --spider': (path, host) =>
    `HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\n` +
    'Accept-Encoding: identity\r\nConnection: Keep-Alive\r\n\r\n',
};

describe.each(Object.entries(CLIENTS))('%s', (_, request) => {
  test.each(PATHS)('%s: 200, headers only, the connection kept open', async (path) => {
    const x = await rawExchange(ts.port, request(path, `127.0.0.1:${ts.port}`), {
      responses: 1,
      heads: 1,
    });
    expect(x.responses).toHaveLength(1);
    expect(x.responses[0]!.status).toBe(200);
    expect(x.responses[0]!.headers['content-type']).toMatch(/^application\/json/);
    expect(x.rest).toBe('');
    expect(x.closedByServer).toBe(false);
  });
});

describe('BusyBox wget (-q -O- and --spider)', () => {
  test.each(PATHS)('%s: 200 with the JSON body, then the server closes', async (path) => {
    // BusyBox v1.35.0 wget
    const x = await rawExchange(
      ts.port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${ts.port}\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n`,
    );
    expect(x.responses).toHaveLength(1);
    expect(x.responses[0]!.status).toBe(200);
    expect(JSON.parse(x.responses[0]!.body)).toHaveProperty('status');
    expect(x.closedByServer).toBe(true);
    expect(x.rest).toBe('');
  });
});

const curlAvailable = spawnSync('curl', ['--version']).status === 0;
if (!curlAvailable) {
  console.warn(
    'NOTICE: curl not found: the curl -fsI test is SKIPPED (its captured request is tested)',
  );
}

/** Runs curl; the exit code and stdout. */
function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 5000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout });
    });
  });
}

test.skipIf(!curlAvailable).each(PATHS)(
  'curl -fsI %s exits 0 with a 200 status line',
  async (path) => {
    const r = await curl(['-fsI', ts.httpUrl(path)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 /);
  },
);
