/**
 * The identity of a numbering (`epoch`): every `n` a subscriber sees belongs
 * to one. A new epoch starts whenever numbering starts again from nothing
 * (an embedded server's process start); a bus that keeps the numbering
 * (NATS: the JetStream stream) derives the epoch from what keeps it, so it is
 * the same on every node and across restarts. A `since` is honoured only for
 * the current epoch (see docs/protocol.md, "Recovery and epochs").
 *
 * Epochs are short ASCII strings (letters, digits, '-'), at most 31
 * characters, so they are written as MessagePack fixstr and need no JSON
 * escaping.
 */

/** Longest epoch the server makes (a MessagePack fixstr holds 31 bytes). */
export const MAX_SERVER_EPOCH_LENGTH = 31;

const EPOCH_RE = /^[A-Za-z0-9-]{1,31}$/;

/** Whether `epoch` is of the form the server's own epochs have. */
export function isServerEpoch(epoch: string): boolean {
  return EPOCH_RE.test(epoch);
}

/** A fresh random epoch for a numbering that starts now: 16 hex digits. */
export function randomEpoch(): string {
  const bytes = new Uint8Array(8);
  // The Web Crypto global (Node 20+, browsers): no node: import in pipeline.
  crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const SNAPSHOT_OP = [0xa2, 0x6f, 0x70, 0xa8, 0x73, 0x6e, 0x61, 0x70, 0x73, 0x68, 0x6f, 0x74];
const EPOCH_KEY = [0xa5, 0x65, 0x70, 0x6f, 0x63, 0x68];
const TICKS_KEY = [0xa5, 0x74, 0x69, 0x63, 0x6b, 0x73];

/**
 * The MessagePack bytes of `{op:"snapshot", epoch:EPOCH, ticks:` up to the
 * array header, made once per epoch.
 */
export function snapshotPrefix(epoch: string): Uint8Array {
  if (!isServerEpoch(epoch)) throw new RangeError(`not a server epoch: ${epoch.slice(0, 40)}`);
  const out = new Uint8Array(
    1 + SNAPSHOT_OP.length + EPOCH_KEY.length + 1 + epoch.length + TICKS_KEY.length,
  );
  let w = 0;
  out[w++] = 0x83;
  out.set(SNAPSHOT_OP, w);
  w += SNAPSHOT_OP.length;
  out.set(EPOCH_KEY, w);
  w += EPOCH_KEY.length;
  out[w++] = 0xa0 | epoch.length;
  for (let i = 0; i < epoch.length; i++) out[w++] = epoch.charCodeAt(i);
  out.set(TICKS_KEY, w);
  return out;
}
