/**
 * A subscribe or unsubscribe changes only the uWS topics of the symbols it
 * names, also on a socket with conflation/throttle state, where each request
 * used to leave and rejoin every topic (300 tiny unsubscribes on a socket
 * with 9,990 symbols held up another client's ping for 19 s). Topic changes
 * are counted as uWS reports them (the `subscription` events the server
 * forwards to its publisher); deliveries are checked alongside.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { TestClient } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const NAMED = 2000;

let ts: TestServer;
/** Topic subscription changes uWS reported, by topic. */
const changes: string[] = [];

beforeAll(async () => {
  ts = await startServer();
  const publisher = ts.server.publisher;
  const forward = publisher.onSubscription.bind(publisher);
  // Counts what uWS reports, then hands it on unchanged.
  publisher.onSubscription = (topic: ArrayBuffer, newCount: number): void => {
    changes.push(Buffer.from(topic).toString());
    forward(topic, newCount);
  };
});

afterAll(async () => {
  await ts.stop();
});

/** A client holding NAMED live symbols, with delivery state (one symbol throttled). */
async function heavySubscriber(prefix: string): Promise<TestClient> {
  const sub = await ts.stream();
  sub.sendPack({ op: 'subscribe', symbols: [`${prefix}.SLOW`], throttle: 1000 });
  await sub.nextOp('snapshot');
  const symbols = Array.from({ length: NAMED }, (_, i) => `${prefix}.${i}`);
  for (let i = 0; i < NAMED; i += 500) {
    sub.sendPack({ op: 'subscribe', symbols: symbols.slice(i, i + 500) });
    await sub.nextOp('snapshot');
  }
  return sub;
}

test('unsubscribing an unknown symbol changes no topic', async () => {
  const sub = await heavySubscriber('TC1');
  changes.length = 0;
  for (let i = 0; i < 20; i++) sub.sendPack({ op: 'unsubscribe', symbols: ['TC1.ZZZ'] });
  for (let i = 0; i < 20; i++) await sub.nextOp('unsubscribed');
  expect(changes).toEqual([]);
  await sub.close();
});

test('subscribe, throttle, unsubscribe: only the named topics change', async () => {
  const sub = await heavySubscriber('TC2');
  changes.length = 0;
  sub.sendPack({ op: 'subscribe', symbols: ['TC2.NEW'] });
  await sub.nextOp('snapshot');
  expect(changes).toEqual(['m:TC2.NEW']);

  changes.length = 0;
  sub.sendPack({ op: 'subscribe', symbols: ['TC2.1'], throttle: 500 });
  await sub.nextOp('snapshot');
  expect(changes).toEqual(['m:TC2.1']); // left: now throttled

  changes.length = 0;
  sub.sendPack({ op: 'unsubscribe', symbols: ['TC2.2', 'TC2.1'] });
  await sub.nextOp('unsubscribed');
  expect(changes).toEqual(['m:TC2.2']); // TC2.1 had no topic any more

  // Still live on the others.
  const feed = await ts.feed();
  feed.sendPack([
    { s: 'TC2.3', p: 1 },
    { s: 'TC2.2', p: 1 },
  ]);
  expect(await sub.update()).toMatchObject({ s: 'TC2.3', n: 1 });
  await Promise.all([sub.close(), feed.close()]);
});

test('switching "*" on and off changes "*" and the named topics once each', async () => {
  const sub = await heavySubscriber('TC3');
  changes.length = 0;
  sub.sendPack({ op: 'subscribe', symbols: ['*'] });
  await sub.nextOp('snapshot');
  expect(changes.filter((t) => t === 'm:*')).toHaveLength(1);
  expect(changes).toHaveLength(1 + NAMED); // "*" joined, the live named ones left
  changes.length = 0;
  sub.sendPack({ op: 'subscribe', symbols: ['*'] });
  await sub.nextOp('snapshot');
  expect(changes).toEqual([]);
  sub.sendPack({ op: 'unsubscribe', symbols: ['*'] });
  await sub.nextOp('unsubscribed');
  expect(changes).toHaveLength(NAMED + 1);
  expect(changes.at(-1)).toBe('m:*'); // left last, after the named ones were joined
  await sub.close();
});
