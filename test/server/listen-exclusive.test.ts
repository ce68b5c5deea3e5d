/**
 * One tickwire per port: with --workers 1 (the default) the server listens
 * without SO_REUSEPORT, so a second server started on the port of a running
 * one fails with listen_failed (EADDRINUSE) instead of silently taking half
 * of the new connections. With --workers above 1 the processes share the
 * port on purpose (SO_REUSEPORT), as src/workers.ts relies on; the
 * process-level test is test/bus/workers.test.ts.
 *
 * The first server gets a fixed free port, not port 0: Linux never shares a
 * port picked by bind(0) through SO_REUSEPORT, which would make the
 * first test pass without the fix.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { ListenError, ServerErrorCode } from '../../src/errors.js';
import { TickwireServer } from '../../src/server/server.js';
import { freePort } from '../helpers/nats.js';
import { httpGet } from '../helpers/server.js';

const started: TickwireServer[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop(0)));
});

function server(port: number, workers = 1): TickwireServer {
  const s = new TickwireServer(
    buildConfig({ host: '127.0.0.1', port, feedToken: 'listen-exclusive', workers }),
  );
  started.push(s);
  return s;
}

describe('--workers 1', () => {
  test('a second server on the port of a running one: listen_failed naming EADDRINUSE', async () => {
    const port = await freePort();
    expect(await server(port).start()).toBe(port);
    const err = await server(port)
      .start()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ListenError);
    expect((err as ListenError).code).toBe(ServerErrorCode.ListenFailed);
    expect((err as ListenError).message).toContain('EADDRINUSE');
    // The first one still serves.
    expect((await httpGet(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});

describe('--workers above 1', () => {
  test('the processes of one server share the port', async () => {
    const port = await freePort();
    expect(await server(port, 2).start()).toBe(port);
    expect(await server(port, 2).start()).toBe(port);
  });
});
