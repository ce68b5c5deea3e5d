/**
 * Bus mode: wildcard updates delivered in one event-loop turn go out as one
 * frame at the end of the turn; a snapshot flushes them first, so nothing is
 * sent twice to a subscriber added in between.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline, type Publisher } from '../../src/pipeline/pipeline.js';
import { ALL_MSGPACK_TOPIC } from '../../src/pipeline/topics.js';
import { encodeBatch } from '../../src/pipeline/update-batch.js';
import { unpack } from '../helpers/clients.js';

interface Sent {
  topic: string;
  message: Uint8Array | string;
  updates: number;
}

function recording(): { publisher: Publisher; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    publisher: {
      publish: (topic, message, _binary, updates) => {
        sent.push({
          topic,
          message: typeof message === 'string' ? message : message.slice(),
          updates,
        });
      },
      subscribers: (topic) => (topic === ALL_MSGPACK_TOPIC ? 1 : 0),
    },
  };
}

const body = (p: number): Uint8Array => new Uint8Array([0xa1, 0x70, p]); // "p": p
const batch = (firstN: number, ps: number[]): Uint8Array =>
  encodeBatch(
    ps.map((p) => ({ entries: 1, body: body(p), rUs: 1 })),
    firstN,
  );
const turnEnd = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('wildcard batching in bus mode', () => {
  it('several batches of one turn become one array frame', async () => {
    const { publisher, sent } = recording();
    const p = new Pipeline(publisher);
    const a = p.symbols.internName('A')!;
    const b = p.symbols.internName('B')!;
    p.deliverBatch(a, batch(1, [1, 2]));
    p.deliverBatch(b, batch(1, [3]));
    expect(sent).toEqual([]);
    await turnEnd();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.updates).toBe(3);
    expect(
      (unpack(sent[0]!.message as Uint8Array) as { p: number; n: number }[]).map((u) => u.p),
    ).toEqual([1, 2, 3]);
  });

  it('a single update is a map; redeliveries are skipped', async () => {
    const { publisher, sent } = recording();
    const p = new Pipeline(publisher);
    const a = p.symbols.internName('A')!;
    p.deliverBatch(a, batch(1, [1]));
    p.deliverBatch(a, batch(1, [1]));
    await turnEnd();
    expect(sent).toHaveLength(1);
    expect(unpack(sent[0]!.message as Uint8Array)).toMatchObject({ p: 1, n: 1 });
  });

  it('a snapshot flushes the pending frame first', () => {
    const { publisher, sent } = recording();
    const p = new Pipeline(publisher);
    const a = p.symbols.internName('A')!;
    p.deliverBatch(a, batch(1, [7]));
    p.snapshot([], true, false);
    expect(sent).toHaveLength(1);
    expect(unpack(sent[0]!.message as Uint8Array)).toMatchObject({ p: 7, n: 1 });
  });
});
