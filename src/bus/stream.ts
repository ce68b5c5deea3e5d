/**
 * The JetStream stream behind the NATS bus: `TICKWIRE`, capturing
 * `tickwire.tick.>`, file storage, limits retention.
 *
 * How much it keeps is decoupled from --history (the in-memory recovery
 * ring): a node's consumer reads the stream behind the appends, and when a
 * symbol's batches are dropped before a node has read them, that node
 * misses updates. With `max_msgs_per_subject` equal to --history (100) a
 * node stopped for 2 s on a hot symbol missed about 4,800 updates (review
 * measurement), so the stream keeps RETAIN_PER_SUBJECT batches per symbol,
 * one batch holding one or more updates: about 5-10 s of the hottest
 * symbol's appends at one round trip per batch. The disk is bounded by
 * `max_bytes` (oldest messages go first). No `max_age`: a quiet symbol's
 * last batch is its snapshot for nodes started later and the numbering a
 * node continues from, and an age limit would drop exactly those.
 */
import { createHash } from 'node:crypto';
import {
  DiscardPolicy,
  type JetStreamManager,
  NatsError,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
  nanos,
} from 'nats';
import { ALL_SUBJECTS } from './subjects.js';

export const STREAM_NAME = 'TICKWIRE';
/** Batches kept per symbol (at least --history). */
export const RETAIN_PER_SUBJECT = 10_000;
/** Disk bound of the stream when tickwire creates it or finds it unbounded. */
export const STREAM_MAX_BYTES = 1024 * 1024 * 1024;
/** JetStream's de-duplication window for appends (message ids). */
const DUPLICATE_WINDOW_MS = 120_000;

/** JetStream API error: stream name already in use (with another configuration). */
const JS_STREAM_NAME_IN_USE = 10058;
/** JetStream API error: stream not found. */
export const JS_STREAM_NOT_FOUND = 10059;

export interface StreamOptions {
  /** --history: updates each node keeps per symbol in memory. */
  readonly history: number;
  /** Replicas when the stream is created. */
  readonly replicas: number;
  /** Batches kept per symbol (default RETAIN_PER_SUBJECT, never below history). */
  readonly retainPerSubject?: number;
  /** Disk bound (default STREAM_MAX_BYTES). */
  readonly maxBytes?: number;
}

/**
 * Creates the stream, or raises an existing one's limits to at least
 * tickwire's (--nats-retain / --history and --nats-max-bytes; a larger
 * per-symbol count or byte bound, set by an operator or another node, is
 * kept). Returns its info.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  options: StreamOptions,
): Promise<StreamInfo> {
  const perSubject = Math.max(1, options.history, options.retainPerSubject ?? RETAIN_PER_SUBJECT);
  const maxBytes = options.maxBytes ?? STREAM_MAX_BYTES;
  try {
    const added = await jsm.streams.add({
      name: STREAM_NAME,
      subjects: [ALL_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: perSubject,
      max_bytes: maxBytes,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      num_replicas: options.replicas,
    });
    // nats-server 2.9 may answer an add of a stream that exists with the
    // zero time as `created` (seen with a second node starting); the
    // creation time names the stream (watchdog, epoch), so read it back.
    if (hasCreationTime(added)) return added;
    return await jsm.streams.info(STREAM_NAME);
  } catch (err) {
    if (!(err instanceof NatsError && err.api_error?.err_code === JS_STREAM_NAME_IN_USE)) throw err;
  }
  // Already there (another node made it).
  const info = await jsm.streams.info(STREAM_NAME);
  const { config } = info;
  const raise: { max_msgs_per_subject?: number; max_bytes?: number } = {};
  if (config.max_msgs_per_subject > 0 && config.max_msgs_per_subject < perSubject) {
    raise.max_msgs_per_subject = perSubject;
  }
  // Raised, never lowered: a smaller bound would drop batches other nodes
  // (with a larger --nats-max-bytes) still rely on; an operator lowers it
  // with `nats stream edit`.
  if (config.max_bytes <= 0 || config.max_bytes < maxBytes) raise.max_bytes = maxBytes;
  if (Object.keys(raise).length === 0) return info;
  const updated = await jsm.streams.update(STREAM_NAME, raise);
  return hasCreationTime(updated) ? updated : jsm.streams.info(STREAM_NAME);
}

/** Whether `info.created` is a real time (not Go's zero time, year 1). */
function hasCreationTime(info: StreamInfo): boolean {
  return Date.parse(info.created) > Date.UTC(2000, 0, 1);
}

/**
 * The epoch (numbering identity, see pipeline/epoch.ts) of a JetStream
 * stream: derived from its name and creation time, so every node reading
 * the same stream, and a node restarted on it, names the same numbering,
 * and a stream that was replaced (NATS lost its store) names another.
 */
export function streamEpoch(info: Pick<StreamInfo, 'created' | 'config'>): string {
  const digest = createHash('sha256').update(`${info.config.name}\0${info.created}`).digest('hex');
  return `js-${digest.slice(0, 16)}`;
}
