/**
 * NATS mode, while the bus is not taking ticks (a full queue, or shutting
 * down): frames are refused whole, and counted by what they hold, never by
 * what a header claims. `dd ff ff ff ff` (array32 claiming 4,294,967,295
 * elements in 5 bytes) is a bad frame: bad_frame, no ticks counted; a
 * well-formed batch is refused with rate_limited and counts its ticks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { NatsServer, natsAvailable } from '../helpers/nats.js';
import { type TestServer, startServer } from '../helpers/server.js';

describe.skipIf(!natsAvailable)(
  'NATS bus: frames refused while the bus is not taking ticks',
  () => {
    let nats: NatsServer;
    let node: TestServer;

    beforeAll(async () => {
      nats = await NatsServer.start();
      node = await startServer({ nats: nats.url });
      await waitFor(() => node.server.ready, 'node ready', 10_000);
      // What a shutdown does first; a full queue (NATS unreachable) answers the same.
      node.server.bus!.sequencer.stopAccepting();
    }, 20_000);

    afterAll(async () => {
      await node.stop();
      await nats.stop();
    });

    test('a header claiming 4,294,967,295 ticks adds none: bad_frame, acked 0/0', async () => {
      const feed = await node.feed('ack=1');
      const before = await node.stats();
      feed.sendBytes(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]));
      expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'bad_frame' });
      expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 0, rejected: 0 });
      feed.sendBytes(Buffer.from([0xdc, 0x10, 0x00]));
      expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'bad_frame' });
      expect(await feed.nextData()).toEqual({ op: 'ack', frame: 2, accepted: 0, rejected: 0 });
      const after = await node.stats();
      expect(after.ticks.received).toBe(before.ticks.received);
      expect(after.ticks.rejected).toBe(before.ticks.rejected);
      expect(after.frames.bad).toBe(before.frames.bad + 2);
    });

    test('a well-formed batch is refused with rate_limited and counts its ticks', async () => {
      const feed = await node.feed('ack=1');
      const before = await node.stats();
      feed.sendPack([{ s: 'NRC.A', p: 1 }, { s: 'NRC.A', p: 2 }, { s: 'NRC.B' }]);
      expect(await feed.nextData()).toMatchObject({ op: 'error', code: 'rate_limited' });
      expect(await feed.nextData()).toEqual({ op: 'ack', frame: 1, accepted: 0, rejected: 3 });
      const after = await node.stats();
      expect(after.ticks.received).toBe(before.ticks.received + 3);
      expect(after.ticks.rejected).toBe(before.ticks.rejected + 3);
      expect(after.ticks.published).toBe(before.ticks.published);
    });
  },
);
