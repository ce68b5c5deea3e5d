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
import { CloseCode, ErrorCode } from '../protocol/codes.js';
import { FrameStatus } from '../protocol/tick-scanner.js';
import { TokenCheck, presentedToken } from './auth.js';
import type { ServerCore } from './core.js';
import { acceptUpgrade, refuseUnauthorized } from './upgrade.js';
import { encodeReply, errorReply } from './replies.js';
import type { FeedSocketData, SocketData } from './socket-data.js';

export function feedBehavior(core: ServerCore): WebSocketBehavior<SocketData> {
  const { config, pipeline, sockets, connections } = core;
  const tokens = new TokenCheck(config.feedToken);
  return {
    // uWS closes frames over its own cap abruptly (1006, no reason), so the
    // cap sits at 4x the limit and frames between the two get a proper 1009
    // payload_too_large close from the message handler.
    maxPayloadLength: config.maxFeedFrame * 4,
    maxBackpressure: config.maxBackpressure,
    idleTimeout: config.idleTimeoutS,
    sendPingsAutomatically: true,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
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
        closed: false,
      };
      acceptUpgrade(res, req, context, data);
    },

    open(ws: WebSocket<SocketData>): void {
      sockets.add(ws);
      connections.feeds++;
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
        if (data.ack) sendAck(ws, frame, 0, 0);
        return;
      }
      // 2–5. Scan, sequence, copy, publish, record: all inside the pipeline.
      const status = pipeline.process(new Uint8Array(message), entryMs);
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
        const code =
          status === FrameStatus.TooLarge ? ErrorCode.PayloadTooLarge : ErrorCode.BadFrame;
        ws.send(encodeReply(errorReply(code, pipeline.scanner.frameError), false), true);
      }
      if (data.ack) sendAck(ws, frame, pipeline.accepted, pipeline.rejected);
    },

    close(ws: WebSocket<SocketData>): void {
      ws.getUserData().closed = true;
      sockets.delete(ws);
      connections.feeds--;
    },
  };
}

function sendAck(
  ws: WebSocket<SocketData>,
  frame: number,
  accepted: number,
  rejected: number,
): void {
  ws.send(encodeReply({ op: 'ack', frame, accepted, rejected }, false), true);
}
