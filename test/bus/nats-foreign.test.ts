/**
 * Messages on `tickwire.tick.*` that tickwire did not write (any NATS client
 * may publish there, and the stream stores them): each is checked before
 * delivery, skipped and counted; the node stays ready and keeps delivering,
 * a node started later reads past them too, and a symbol whose last stored
 * message is foreign is still numbered from its last real update.
 */
import { type NatsConnection, connect as natsConnect } from 'nats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { subjectFor } from '../../src/bus/subjects.js';
import { encodeBatch } from '../../src/pipeline/update-batch.js';
import { writeU32 } from '../../src/pipeline/update-writer.js';
import { waitFor } from '../helpers/clients.js';
import { pendingTick } from '../helpers/pending-tick.js';
import { type Cluster, busStats, natsAvailable, startCluster } from '../helpers/nats.js';
import { type TestServer, httpGet, readyz, startServer } from '../helpers/server.js';

const tick = (fields: Record<string, unknown>) => pendingTick(fields, 1);

describe.skipIf(!natsAvailable)('NATS bus: foreign messages on the tick subjects', () => {
  let cluster: Cluster;
  let a: TestServer;
  let nc: NatsConnection;
  let late: TestServer | undefined;

  beforeAll(async () => {
    cluster = await startCluster(1);
    [a] = cluster.nodes as [TestServer];
    nc = await natsConnect({ servers: cluster.nats.url });
  });

  afterAll(async () => {
    await late?.stop();
    await nc?.close();
    await cluster?.stop();
  });

  test('skipped and counted; the node stays ready and keeps numbering', async () => {
    const sub = await a.stream('symbols=*');
    await sub.nextOp('snapshot');
    const feed = await a.feed('ack=1');
    feed.sendPack({ s: 'FG.C', p: 1 });
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 1 });
    expect(await sub.update(10_000)).toMatchObject({ s: 'FG.C', n: 1 });

    const js = nc.jetstream();
    // Stored in the stream like any batch: `nats pub tickwire.tick.ZZ hello`.
    await js.publish(subjectFor('ZZ'), new TextEncoder().encode('hello'));
    // A well-formed batch whose header claims 2^32 - 1 updates.
    const forged = encodeBatch([tick({ s: 'FG.A', p: 1 })], 1);
    writeU32(forged, 0, 0xffffffff);
    await js.publish(subjectFor('FG.A'), forged);
    // A subject that is no symbol.
    await js.publish('tickwire.tick.bad!sym', encodeBatch([tick({ s: 'bad!sym', p: 1 })], 1));
    // A real batch on the wrong subject: its update is another symbol's.
    await js.publish(subjectFor('FG.B'), encodeBatch([tick({ s: 'FG.C', p: 9 })], 2));
    // FG.C itself: its last stored message is now a foreign one.
    await js.publish(subjectFor('FG.C'), new Uint8Array([1, 2, 3]));

    await waitFor(async () => (await busStats(a)).bad_messages === 5, 'five bad messages', 10_000);
    expect(await readyz(a)).toBe(200);
    const metrics = (await httpGet(a.httpUrl('/metrics'))).body;
    expect(metrics).toMatch(/^tickwire_bus_bad_messages_total 5$/m);
    // Nothing was delivered for them, and no symbol was made up.
    await sub.expectNone(200);
    expect(a.server.pipeline.symbols.get('bad!sym')).toBeUndefined();
    expect(a.server.pipeline.symbols.get('FG.C')?.seq).toBe(1);

    // Live ticks still flow, numbered after the last real update.
    feed.sendPack([
      { s: 'FG.C', p: 2 },
      { s: 'ZZ', p: 1 },
    ]);
    expect(await feed.nextOp('ack', 10_000)).toMatchObject({ accepted: 2, rejected: 0 });
    const got = await sub.updatesAtLeast(2, 10_000);
    expect(got.map((u) => `${u.s}#${u.n}#${u.p}`).sort()).toEqual(['FG.C#2#2', 'ZZ#1#1']);
  });

  test('a node started later reads past them and becomes ready', async () => {
    late = await startServer({ nats: cluster.nats.url });
    const node = late;
    await waitFor(() => node.server.ready, 'late node ready', 10_000);
    expect((await busStats(node)).bad_messages).toBe(5);
    const sub = await node.stream('symbols=FG.C,ZZ');
    const snapshot = await sub.nextOp('snapshot');
    expect(snapshot.ticks.map((t: { s: string; n: number }) => `${t.s}#${t.n}`).sort()).toEqual([
      'FG.C#2',
      'ZZ#1',
    ]);
  });
});
