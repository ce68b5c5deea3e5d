/**
 * Shortcuts for the slow-consumer and throttle tests: a subscriber that
 * stops reading (its TCP socket paused), a feed that publishes until a
 * condition holds, and per-symbol checks of the updates a client received.
 */
import type { Socket } from 'node:net';
import { type TestClient, type Update, sleep } from './clients.js';

/** The TCP socket under a `ws` client (not part of its typed API). */
export function tcpOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

export interface Flood {
  /** Ticks sent per symbol (exact when the batch is a multiple of the symbol count). */
  perSymbol: number;
}

/**
 * Publishes batches of `batch` ticks round-robin over `symbols` (each with a
 * 100-byte note) until `done()` holds, then `extraFrames` more batches,
 * pausing 1 ms every `pauseEvery` batches. Bounded: throws after `maxTicks`.
 */
export async function floodUntil(
  feed: TestClient,
  symbols: readonly string[],
  done: () => boolean,
  flood: Flood,
  { batch = 200, extraFrames = 0, maxTicks = 3_000_000, pauseEvery = 4 } = {},
): Promise<void> {
  const note = 'z'.repeat(100);
  let sent = 0;
  let extra = -1;
  for (let frame = 0; extra < extraFrames; frame++) {
    if (sent > maxTicks) throw new Error(`condition not reached after ${sent} ticks`);
    if (extra < 0 && done()) extra = 0;
    if (extra >= 0) extra++;
    const ticks = Array.from({ length: batch }, (_, i) => ({
      s: symbols[(sent + i) % symbols.length]!,
      p: frame,
      note,
    }));
    feed.sendPack(ticks);
    sent += batch;
    flood.perSymbol += batch / symbols.length;
    // Give the server (same process) a turn now and then.
    if (frame % pauseEvery === pauseEvery - 1) await sleep(1);
  }
}

/** Per symbol: the `n`s received in order. */
export function bySymbol(updates: readonly Update[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const u of updates) {
    let ns = out.get(u.s);
    if (ns === undefined) out.set(u.s, (ns = []));
    ns.push(u.n);
  }
  return out;
}

/** Updates skipped in `ns` (strictly increasing), counted from `from`: the sum of the n-gaps. */
export function gapsOf(ns: readonly number[], from = 0): number {
  let gaps = 0;
  let last = from;
  for (const n of ns) {
    if (n <= last) throw new Error(`n went from ${last} to ${n}: out of order or duplicated`);
    gaps += n - last - 1;
    last = n;
  }
  return gaps;
}

/** Every update received so far by `client` (from its history), in order. */
export function receivedUpdates(client: TestClient): Update[] {
  const out: Update[] = [];
  for (const m of client.history) {
    const d: unknown = m.data;
    if (Array.isArray(d)) out.push(...(d as Update[]));
    else if (typeof d === 'object' && d !== null && !('op' in d)) out.push(d as Update);
  }
  return out;
}
