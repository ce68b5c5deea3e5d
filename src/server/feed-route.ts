/**
 * /feed: authenticated feeds push MessagePack ticks. The message handler is
 * the pipeline's entry point: the ArrayBuffer is only valid during the call,
 * and the pipeline copies what it keeps before returning. Replies (errors
 * and acks) go through FeedReplies, which closes a feed that does not read
 * them (feed-replies.ts); what a frame counts for where the pipeline does
 * not count it (rate tokens, frames refused whole) is feed-count.ts's.
 */
import type {
  HttpRequest,
  HttpResponse,
  WebSocket,
  WebSocketBehavior,
  us_socket_context_t,
} from 'uWebSockets.js';
import { CloseCode, ErrorCode, MAX_BATCH } from '../protocol/codes.js';
import { FrameStatus } from '../protocol/tick-scanner.js';
import { TokenCheck, presentedToken } from './auth.js';
import type { ServerCore } from './core.js';
import { chargeableTicks, receivedTicks } from './feed-count.js';
import { FeedReplies, feedUwsBackpressure } from './feed-replies.js';
import { FeedRateLimit, PERSIST_MS, RateVerdict } from './rate-limit.js';
import { acceptUpgrade, refuseUnauthorized } from './upgrade.js';
import { type AckTicket, FeedAcks } from './feed-acks.js';
import { errorReply } from './replies.js';
import type { FeedSocketData, SocketData } from './socket-data.js';

/** uWS's frame cap on /feed is at least this (see maxPayloadLength below). */
export const FEED_MIN_FRAME_CAP = 16 * 1024 * 1024;

const BUS_REFUSAL =
  'the bus is not taking ticks now (NATS unreachable with a full queue, or shutting down)';

type FeedSocket = WebSocket<SocketData>;

export function feedBehavior(core: ServerCore): WebSocketBehavior<SocketData> {
  const { config, pipeline, sockets, connections, admission } = core;
  const tokens = new TokenCheck(config.feedToken);
  const replies = new FeedReplies(config, admission.refused);
  return {
    // uWS closes frames over its own cap abruptly (1006, no reason), so the
    // cap sits well above the limit (4x, at least 16 MiB) and frames between
    // the two get a proper 1009 payload_too_large close from the message
    // handler, as the wire contract asks of every close. uWS buffers a frame
    // up to the cap before that, at most once per connection, and only for
    // feeds that presented the token.
    maxPayloadLength: Math.max(config.maxFeedFrame * 4, FEED_MIN_FRAME_CAP),
    // A feed with more than maxBackpressure bytes of replies unread is closed
    // as a slow consumer (feed-replies.ts); uWS's own cap sits above that, so
    // it never drops a reply. closeOnBackpressureLimit stays off: uWS would
    // cut the socket with no close frame.
    maxBackpressure: feedUwsBackpressure(config.maxBackpressure),
    idleTimeout: config.idleTimeoutS,
    sendPingsAutomatically: true,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
      const ip = admission.admit(res, req, false);
      if (ip === undefined) return;
      const query = new URLSearchParams(req.getQuery() ?? '');
      const token = presentedToken(req.getHeader('authorization'), query);
      if (!tokens.matches(token)) {
        refuseUnauthorized(res, 'feed');
        return;
      }
      const ackParam = query.get('ack');
      const data: FeedSocketData = {
        kind: 'feed',
        ack: ackParam === '1' || ackParam === 'true',
        frames: 0,
        rate:
          config.feedRate > 0 ? new FeedRateLimit(config.feedRate, performance.now()) : undefined,
        ip,
        closed: false,
      };
      acceptUpgrade(res, req, context, data);
    },

    open(ws: FeedSocket): void {
      const data = ws.getUserData() as FeedSocketData;
      if (data.ack && (core.bus !== undefined || core.journal !== undefined)) {
        data.acks = new FeedAcks((frame, accepted, rejected) =>
          replies.ack(ws, data, frame, accepted, rejected),
        );
      }
      sockets.add(ws);
      connections.feeds++;
      admission.opened(ws.getUserData().ip);
    },

    message(ws: FeedSocket, message: ArrayBuffer, isBinary: boolean): void {
      // 1. Entry timestamp, first thing.
      const entryMs = performance.now();
      const data = ws.getUserData() as FeedSocketData;
      // Being closed as a slow consumer: nothing more is read (feed-replies.ts).
      if (data.closing !== undefined) return;
      const frame = ++data.frames;
      if (message.byteLength > config.maxFeedFrame) {
        ws.end(
          CloseCode.MessageTooBig,
          `${ErrorCode.PayloadTooLarge}: frames on /feed are limited to ${config.maxFeedFrame} bytes`,
        );
        return;
      }
      if (!isBinary) {
        pipeline.counters.framesReceived++;
        pipeline.counters.framesBad++;
        replies.error(
          ws,
          data,
          errorReply(
            ErrorCode.BadFrame,
            'text frames are not accepted on /feed: send binary MessagePack',
          ),
        );
        ackUnpublished(replies, ws, data, frame, 0, undefined);
        return;
      }
      const bytes = new Uint8Array(message);
      // Bus mode: refuse while too many ticks wait to be stored (NATS down),
      // or while shutting down. Before the rate limit: a refused frame takes
      // no tokens.
      if (core.bus?.sequencer.saturated === true) {
        refuseFrame(core, replies, ws, data, frame, bytes, false, BUS_REFUSAL);
        return;
      }
      const journal = core.journal;
      if (journal?.refuses(bytes.length, MAX_BATCH) === true) {
        refuseFrame(core, replies, ws, data, frame, bytes, false, journal.refusal);
        return;
      }
      // Tokens for the ticks the frame's bytes can hold (feed-count.ts); a
      // frame the scanner will refuse whole takes none, and one that turns
      // out bad further in gets its tokens back below.
      const rate = data.rate;
      let charged = 0;
      if (rate !== undefined) {
        charged = chargeableTicks(bytes);
        const verdict = charged === 0 ? RateVerdict.Ok : rate.take(charged, entryMs);
        if (verdict !== RateVerdict.Ok) {
          refuseFrame(
            core,
            replies,
            ws,
            data,
            frame,
            bytes,
            verdict === RateVerdict.Close,
            `over ${config.feedRate} ticks/s`,
          );
          return;
        }
      }
      // Bus mode or a journal, with acks: the ack waits until the ticks are stored.
      const ticket = data.acks?.open(frame);
      // 2–5. Scan, sequence, copy, publish, record: all inside the pipeline.
      const status = pipeline.process(bytes, entryMs, ticket);
      if (status !== FrameStatus.Ok) {
        if (charged > 0) rate!.refund(charged);
        answerScanRefusal(core, replies, ws, data, frame, bytes, status, ticket);
        return;
      }
      if (pipeline.rejected > 0) {
        replies.error(
          ws,
          data,
          errorReply(ErrorCode.BadTick, pipeline.firstFault(), pipeline.rejectedIndices()),
        );
      }
      if (ticket !== undefined) {
        ticket.settle(pipeline.accepted, pipeline.rejected);
        // Journal: the ack waits until the frame's updates are written (synced with `always`).
        if (journal !== undefined && pipeline.accepted > 0)
          journal.whenStored(pipeline.lastRecord, ticket, pipeline.accepted);
      } else if (data.ack) replies.ack(ws, data, frame, pipeline.accepted, pipeline.rejected);
    },

    drain(ws: FeedSocket): void {
      replies.drain(ws);
    },

    close(ws: FeedSocket): void {
      const data = ws.getUserData();
      data.closed = true;
      sockets.delete(ws);
      connections.feeds--;
      admission.released(data.ip);
    },
  };
}

/**
 * A frame refused whole before it is processed (over the feed's tick rate,
 * or the bus not taking ticks). It is scanned all the same (bounded and
 * allocation-free, like any frame), so that it counts what it holds and
 * never what its header claims (feed-count.ts): one the scanner refuses is
 * answered as it would be otherwise (bad_frame, payload_too_large). A
 * well-formed one gets rate_limited saying `why`, and its ack, accepted 0;
 * its ticks arrived, so they count as received and rejected. `close`: over
 * the rate too long, closed with 1008.
 */
function refuseFrame(
  core: ServerCore,
  replies: FeedReplies,
  ws: FeedSocket,
  data: FeedSocketData,
  frame: number,
  bytes: Uint8Array,
  close: boolean,
  why: string,
): void {
  const { counters, scanner } = core.pipeline;
  counters.framesReceived++;
  const status = scanner.scan(bytes);
  if (status !== FrameStatus.Ok) {
    counters.framesBad++;
    answerScanRefusal(core, replies, ws, data, frame, bytes, status, undefined);
    return;
  }
  const count = scanner.count;
  counters.ticksReceived += count;
  counters.ticksRejected += count;
  const refused = core.admission.refused;
  refused.rateLimitedFrames++;
  replies.error(
    ws,
    data,
    errorReply(ErrorCode.RateLimited, `${why}: the frame's ${count} ticks were not published`),
  );
  ackUnpublished(replies, ws, data, frame, count, undefined);
  // A slow-consumer close already under way goes on as it is.
  if (close && data.closing === undefined) {
    refused.rateLimitedCloses++;
    ws.end(
      CloseCode.PolicyViolation,
      `${ErrorCode.RateLimited}: over ${core.config.feedRate} ticks/s for ${PERSIST_MS / 1000} s`,
    );
  }
}

/**
 * A frame the scanner refused whole: bad_frame, or payload_too_large for a
 * batch over MAX_BATCH, whose ticks did arrive and count as received and
 * rejected (the scanner checked the header's count against the bytes
 * first). The frame counters are the caller's.
 */
function answerScanRefusal(
  core: ServerCore,
  replies: FeedReplies,
  ws: FeedSocket,
  data: FeedSocketData,
  frame: number,
  bytes: Uint8Array,
  status: FrameStatus,
  ticket: AckTicket | undefined,
): void {
  const { counters, scanner } = core.pipeline;
  const rejected = receivedTicks(bytes, status, scanner);
  counters.ticksReceived += rejected;
  counters.ticksRejected += rejected;
  const code = status === FrameStatus.TooLarge ? ErrorCode.PayloadTooLarge : ErrorCode.BadFrame;
  replies.error(ws, data, errorReply(code, scanner.frameError));
  ackUnpublished(replies, ws, data, frame, rejected, ticket);
}

/**
 * Acks a frame none of whose ticks was published (accepted 0). In bus mode
 * the ack goes through the ordered queue, behind frames not yet stored.
 */
function ackUnpublished(
  replies: FeedReplies,
  ws: FeedSocket,
  data: FeedSocketData,
  frame: number,
  rejected: number,
  ticket: AckTicket | undefined,
): void {
  if (data.acks !== undefined) (ticket ?? data.acks.open(frame)).settle(0, rejected);
  else if (data.ack) replies.ack(ws, data, frame, 0, rejected);
}
