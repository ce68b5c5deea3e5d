/**
 * What the server sends a feed (errors and acks), and the bound on what may
 * wait for it. Replies must never vanish: uWS drops a send past the route's
 * maxBackpressure and says so only in send()'s return value, so a feed that
 * wrote 200,000 frames before reading got acks 1..72,800, then none, and the
 * next one said `frame: 200001`.
 *
 * A feed that does not read cannot be slowed down here: this uWS build's
 * WebSocket has no pause() (checked on a live socket: no pause or resume),
 * and uWS keeps reading and calling `message`. So once more than
 * maxBackpressure bytes of replies wait for a feed, it is closed as a slow
 * consumer, in the two steps subscribers get (conflation.ts):
 *
 * 1. at once: counted (`refused.slow_consumer_feed_closes`), and from then
 *    on nothing more is sent to it, nor read from it: its frames are
 *    discarded unprocessed (not published, acked or counted);
 * 2. once its queue is down to half the limit, the close frame follows the
 *    replies already queued: 1008, reason starting `slow_consumer`. A feed
 *    that has not read that far within stallTimeoutS would never see it:
 *    its TCP connection is dropped, which frees the queue.
 *
 * So what a feed receives is always a prefix, acks 1..K in order, then the
 * close. The queue is checked once a frame's replies are out (after its ack,
 * or after its error on a feed without acks), so it passes the limit by one
 * frame's replies at most; uWS's own cap sits FEED_REPLY_HEADROOM above it,
 * so no reply of ours is ever dropped. Past that cap uWS drops only its own
 * pongs (a ping flood); should a reply be dropped all the same, the feed is
 * closed the same way.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { CloseCode, ErrorCode } from '../protocol/codes.js';
import type { ErrorMessage } from '../protocol/types.js';
import type { RefusalCounts } from './refusals.js';
import { encodeReply } from './replies.js';
import type { FeedSocketData, SocketData } from './socket-data.js';

/** ws.send() results (uWS): everything written, some of it queued, or dropped. */
const SEND_SUCCESS = 1;
const SEND_DROPPED = 2;

/** Bytes uWS's own cap on /feed sits above maxBackpressure (see above). */
export const FEED_REPLY_HEADROOM = 1024 * 1024;

/** The /feed route's uWS maxBackpressure: the limit plus FEED_REPLY_HEADROOM. */
export function feedUwsBackpressure(maxBackpressure: number): number {
  return maxBackpressure + FEED_REPLY_HEADROOM;
}

type FeedSocket = WebSocket<SocketData>;

export class FeedReplies {
  readonly #limit: number;
  readonly #stallMs: number;
  readonly #refused: RefusalCounts;

  constructor(config: Pick<Config, 'maxBackpressure' | 'stallTimeoutS'>, refused: RefusalCounts) {
    this.#limit = config.maxBackpressure;
    this.#stallMs = config.stallTimeoutS * 1000;
    this.#refused = refused;
  }

  /**
   * Sends an error about a frame, then checks the queue: with acks on the
   * NATS bus the frame's ack may come much later (after storage), so the
   * error cannot leave the check to it.
   */
  error(ws: FeedSocket, data: FeedSocketData, reply: ErrorMessage): void {
    if (data.closing !== undefined) return;
    // Errors are sent while their frame is handled: it is the latest one.
    // Naming it matters with NATS, where a frame's ack waits for storage
    // and a later frame's error can arrive before it.
    const status = ws.send(encodeReply({ ...reply, frame: data.frames }, false), true);
    this.#check(ws, data, status);
  }

  /** Sends a frame's ack (its last reply), then checks the queue. */
  ack(
    ws: FeedSocket,
    data: FeedSocketData,
    frame: number,
    accepted: number,
    rejected: number,
  ): void {
    if (data.closing !== undefined || data.closed) return;
    const status = ws.send(encodeReply({ op: 'ack', frame, accepted, rejected }, false), true);
    this.#check(ws, data, status);
  }

  /** The route's `drain` handler: a feed being closed gets its close frame once drained. */
  drain(ws: FeedSocket): void {
    const data = ws.getUserData();
    if (data.kind === 'feed' && data.closing !== undefined && !data.closed) {
      this.#finishClose(ws, data);
    }
  }

  #check(ws: FeedSocket, data: FeedSocketData, status: number): void {
    // SUCCESS means nothing is queued: no native call on the common path.
    if (status === SEND_SUCCESS) return;
    if (status === SEND_DROPPED) this.#startClose(ws, data, 'a reply could not be queued');
    else if (ws.getBufferedAmount() > this.#limit) {
      this.#startClose(ws, data, `more than ${this.#limit} bytes of replies not read`);
    }
  }

  #startClose(ws: FeedSocket, data: FeedSocketData, why: string): void {
    data.closing = { since: performance.now(), reason: `${ErrorCode.SlowConsumer}: ${why}` };
    this.#refused.slowConsumerFeedCloses++;
    this.#finishClose(ws, data);
    if (data.closed) return;
    // Not drained within stallTimeoutS: the close frame could not reach it anyway.
    setTimeout(() => {
      if (!data.closed) ws.close();
    }, this.#stallMs).unref();
  }

  #finishClose(ws: FeedSocket, data: FeedSocketData): void {
    if (ws.getBufferedAmount() <= this.#limit / 2) {
      ws.end(CloseCode.PolicyViolation, data.closing!.reason);
    }
  }
}
