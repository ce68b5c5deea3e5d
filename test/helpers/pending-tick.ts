/**
 * A tick as the scanner hands it to the bus: the key/value bytes of its
 * MessagePack map (the map header stripped), for tests that build update
 * batches (encodeBatch) without a server.
 */
import type { PendingTick } from '../../src/pipeline/update-batch.js';
import { pack } from './clients.js';

export function pendingTick(
  fields: Record<string, unknown>,
  rUs = 1_700_000_000_000_000,
): PendingTick {
  const bytes = pack(fields);
  const header = bytes[0] === 0xde ? 3 : 1; // map16 (msgpackr's default) or fixmap
  return {
    entries: Object.keys(fields).length,
    body: new Uint8Array(bytes.subarray(header)),
    rUs,
  };
}
