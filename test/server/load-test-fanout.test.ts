/**
 * The load test's own uWS app (load-test-fanout.ts): it admits only the
 * upgrades that present the run's key (401 `unauthorized` otherwise),
 * delivers what its publisher publishes on the wildcard topic to them, and
 * accepts no connection once it stops listening.
 */
import { afterAll, expect, test } from 'vitest';
import { ALL_MSGPACK_TOPIC } from '../../src/pipeline/topics.js';
import { LOAD_TEST_KEY_PARAM, LoadTestFanout } from '../../src/server/load-test-fanout.js';
import { ErrorCode } from '../../src/protocol/codes.js';
import { type TestClient, UpgradeRefused, connect, pack } from '../helpers/clients.js';

const fanout = new LoadTestFanout(1024 * 1024);
afterAll(() => fanout.close());

function withKey(url: string, key: string): string {
  const u = new URL(url);
  u.searchParams.set(LOAD_TEST_KEY_PARAM, key);
  return u.toString();
}

async function refusal(url: string): Promise<unknown> {
  try {
    const c: TestClient = await connect(url);
    await c.close();
    return 'accepted';
  } catch (err) {
    return err instanceof UpgradeRefused ? { status: err.status, body: err.body } : err;
  }
}

test("only the run's key is admitted, and only while listening", async () => {
  const url = fanout.listen('the-run-key');
  for (const bad of [withKey(url, 'another-key'), withKey(url, '')]) {
    const r = (await refusal(bad)) as { status: number; body: string };
    expect(r.status).toBe(401);
    expect(r.body.startsWith(ErrorCode.Unauthorized)).toBe(true);
  }
  const noKey = new URL(url);
  noKey.search = '';
  expect(await refusal(noKey.toString())).toMatchObject({ status: 401 });

  const sub = await connect(url);
  expect(fanout.connections).toBe(1);
  fanout.publisher.publish(ALL_MSGPACK_TOPIC, pack({ s: 'X', p: 1, n: 1 }), true, 1);
  expect(await sub.nextData()).toEqual({ s: 'X', p: 1, n: 1 });
  expect(fanout.publisher.deliveries).toBe(1);

  fanout.stopListening();
  const err = await refusal(url);
  expect(err).toBeInstanceOf(Error);
  expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  // Open connections stay until close().
  expect(sub.isOpen).toBe(true);
  fanout.close();
  await sub.waitClose();
  expect(fanout.connections).toBe(0);
});
