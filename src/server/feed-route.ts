/**
 * /feed: authenticated feeds push MessagePack ticks. The message handler is
 * the pipeline's entry point: the ArrayBuffer is only valid during the call,
 * and the pipeline copies what it keeps before returning.
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
import { FeedRateLimit, PERSIST_MS, RateVerdict, frameTickCount } from './rate-limit.js';
import { acceptUpgrade, refuseUnauthorized } from './upgrade.js';
import { FeedAcks } from './feed-acks.js';
import { encodeReply, errorReply } from './replies.js';
import type { FeedSocketData, SocketData } from './socket-data.js';

/** uWS's frame cap on /feed is at least this (see maxPayloadLength below). */
export const FEED_MIN_FRAME_CAP = 16 * 1024 * 1024;

export function feedBehavior(core: ServerCore): WebSocketBehavior<SocketData> {
  const { config, pipeline, sockets, connections, admission } = core;
  const tokens = new TokenCheck(config.feedToken);
  return {
    // uWS closes frames over its own cap abruptly (1006, no reason), so the
    // cap sits well above the limit (4x, at least 16 MiB) and frames between
    // the two get a proper 1009 payload_too_large close from the message
    // handler, as the wire contract asks of every close. uWS buffers a frame
    // up to the cap before that, at most once per connection, and only for
    // feeds that presented the token.
    maxPayloadLength: Math.max(config.maxFeedFrame * 4, FEED_MIN_FRAME_CAP),
    maxBackpressure: config.maxBackpressure,
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

    open(ws: WebSocket<SocketData>): void {
      const data = ws.getUserData() as FeedSocketData;
      if (data.ack && core.bus !== undefined) {
        data.acks = new FeedAcks((frame, accepted, rejected) => {
          if (!data.closed) sendAck(ws, frame, accepted, rejected);
        });
      }
      sockets.add(ws);
      connections.feeds++;
      admission.opened(ws.getUserData().ip);
    },

    message(ws: WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void {
      // 1. Entry timestamp, first thing.
      const entryMs = performance.now();
      const data = ws.getUserData() as FeedSocketData;
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
        ws.send(
          encodeReply(
            errorReply(
              ErrorCode.BadFrame,
              'text frames are not accepted on /feed: send binary MessagePack',
            ),
            false,
          ),
          true,
        );
        if (data.acks !== undefined) data.acks.open(frame).settle(0, 0);
        else if (data.ack) sendAck(ws, frame, 0, 0);
        return;
      }
      const bytes = new Uint8Array(message);
      if (data.rate !== undefined) {
        // Tick count from the frame's header only; oversized batches are the
        // pipeline's (payload_too_large) and take no tokens.
        const count = frameTickCount(bytes);
        if (count <= MAX_BATCH) {
          const verdict = data.rate.take(count, entryMs);
          if (verdict !== RateVerdict.Ok) {
            refuseOverRate(
              ws,
              core,
              data,
              frame,
              count,
              verdict === RateVerdict.Close,
              `over ${config.feedRate} ticks/s`,
            );
            return;
          }
        }
      }
      // Bus mode: refuse while too many ticks wait to be stored (NATS down).
      if (core.bus?.sequencer.saturated === true) {
        refuseOverRate(
          ws,
          core,
          data,
          frame,
          frameTickCount(bytes),
          false,
          'the bus is not taking ticks now (NATS unreachable with a full queue, or shutting down)',
        );
        return;
      }
      // Bus mode with acks: the ack waits until the bus has stored the ticks.
      const ticket = data.acks?.open(frame);
      // 2–5. Scan, sequence, copy, publish, record: all inside the pipeline.
      const status = pipeline.process(bytes, entryMs, ticket);
      let rejected = pipeline.rejected;
      if (status === FrameStatus.Ok) {
        if (pipeline.rejected > 0) {
          ws.send(
            encodeReply(
              errorReply(ErrorCode.BadTick, pipeline.firstFault(), pipeline.rejectedIndices()),
              false,
            ),
            true,
          );
        }
      } else {
        if (status === FrameStatus.TooLarge) {
          // A batch of more than MAX_BATCH ticks is refused whole. Its ticks
          // did arrive, so they count as received and rejected (as for a
          // rate-limited frame); the scanner has already checked the header's
          // count against the frame's length, so it cannot inflate them.
          rejected = frameTickCount(bytes);
          pipeline.counters.ticksReceived += rejected;
          pipeline.counters.ticksRejected += rejected;
        }
        const code =
          status === FrameStatus.TooLarge ? ErrorCode.PayloadTooLarge : ErrorCode.BadFrame;
        ws.send(encodeReply(errorReply(code, pipeline.scanner.frameError), false), true);
      }
      if (ticket !== undefined) ticket.settle(pipeline.accepted, rejected);
      else if (data.ack) sendAck(ws, frame, pipeline.accepted, rejected);
    },

    close(ws: WebSocket<SocketData>): void {
      const data = ws.getUserData();
      data.closed = true;
      sockets.delete(ws);
      connections.feeds--;
      admission.released(data.ip);
    },
  };
}

/**
 * A frame refused whole (over the feed's tick rate, or the bus not taking
 * ticks): none of its ticks is processed. They arrived, so they count as
 * received and rejected; the feed gets a rate_limited error saying `why`
 * (and its ack, accepted 0), and is closed with 1008 when it has stayed
 * over its rate too long.
 */
function refuseOverRate(
  ws: WebSocket<SocketData>,
  core: ServerCore,
  data: FeedSocketData,
  frame: number,
  count: number,
  close: boolean,
  why: string,
): void {
  const counters = core.pipeline.counters;
  counters.framesReceived++;
  counters.ticksReceived += count;
  counters.ticksRejected += count;
  const refused = core.admission.refused;
  refused.rateLimitedFrames++;
  const rate = core.config.feedRate;
  ws.send(
    encodeReply(
      errorReply(ErrorCode.RateLimited, `${why}: the frame's ${count} ticks were not published`),
      false,
    ),
    true,
  );
  // In bus mode acks go through the ordered queue, behind frames not yet stored.
  if (data.acks !== undefined) data.acks.open(frame).settle(0, count);
  else if (data.ack) sendAck(ws, frame, 0, count);
  if (close) {
    refused.rateLimitedCloses++;
    ws.end(
      CloseCode.PolicyViolation,
      `${ErrorCode.RateLimited}: over ${rate} ticks/s for ${PERSIST_MS / 1000} s`,
    );
  }
}

function sendAck(
  ws: WebSocket<SocketData>,
  frame: number,
  accepted: number,
  rejected: number,
): void {
  ws.send(encodeReply({ op: 'ack', frame, accepted, rejected }, false), true);
}
