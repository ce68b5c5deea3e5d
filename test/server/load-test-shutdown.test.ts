/**
 * A server stopped during a load test ends the run at once: its
 * connections on the load test's own app are closed with the server, and
 * the run reports what it did until then.
 */
import { expect, test } from 'vitest';
import type { LoadTestStatus } from '../../src/server/load-test.js';
import { startServer } from '../helpers/server.js';

const ADMIN = 'admin-token-shutdown';

test('stop() aborts a running load test and closes its connections', async () => {
  const ts = await startServer({ adminToken: ADMIN });
  const res = await fetch(ts.httpUrl('/admin/loadtest'), {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rate: 1000, symbols: 5, subscribers: 4, duration: 30 }),
  });
  expect(res.status).toBe(202);
  const tester = ts.server.loadTester;
  await expect.poll(() => tester.connections).toBe(4);
  await ts.stop();
  expect(tester.connections).toBe(0);
  // The 30 s run is over with the server (the test would time out otherwise).
  await expect.poll(() => tester.latest?.state).toBe('done');
  expect((tester.latest as LoadTestStatus).result!.ticks).toBeGreaterThanOrEqual(0);
});
