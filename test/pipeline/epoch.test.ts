import { unpack } from 'msgpackr';
import { expect, test } from 'vitest';
import { isServerEpoch, randomEpoch, snapshotPrefix } from '../../src/pipeline/epoch.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { StubPublisher } from './stub-publisher.js';

test('random epochs are server epochs and differ', () => {
  const a = randomEpoch();
  const b = randomEpoch();
  expect(isServerEpoch(a)).toBe(true);
  expect(a).toMatch(/^[0-9a-f]{16}$/);
  expect(a).not.toBe(b);
});

test('the snapshot prefix plus an empty array decodes to a snapshot naming the epoch', () => {
  for (const epoch of ['a', 'js-0123456789abcdef', 'x'.repeat(31)]) {
    const prefix = snapshotPrefix(epoch);
    const bytes = new Uint8Array(prefix.length + 1);
    bytes.set(prefix);
    bytes[prefix.length] = 0x90;
    expect(unpack(bytes)).toEqual({ op: 'snapshot', epoch, ticks: [] });
  }
});

test('an epoch the prefix cannot hold is refused', () => {
  for (const bad of ['', 'x'.repeat(32), 'a b', 'é']) {
    expect(() => snapshotPrefix(bad)).toThrow(RangeError);
  }
});

test('a pipeline snapshot names its epoch, and setEpoch changes it', () => {
  const p = new Pipeline(new StubPublisher(), { coalesce: 'frame' });
  expect(unpack(p.snapshot([], true, false) as Uint8Array)).toEqual({
    op: 'snapshot',
    epoch: p.epoch,
    ticks: [],
  });
  p.setEpoch('js-feedfacefeedface');
  expect(JSON.parse(p.snapshot([], true, true) as string)).toEqual({
    op: 'snapshot',
    epoch: 'js-feedfacefeedface',
    ticks: [],
  });
});
