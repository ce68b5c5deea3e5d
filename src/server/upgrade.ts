/** Shared pieces of the /feed and /stream upgrade handlers. */
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { ErrorCode } from '../protocol/codes.js';
import type { SocketData } from './socket-data.js';

/** Refuses an upgrade with HTTP 401; no WebSocket opens. */
export function refuseUnauthorized(res: HttpResponse, what: 'feed' | 'stream'): void {
  res
    .writeStatus('401 Unauthorized')
    .writeHeader('WWW-Authenticate', 'Bearer')
    .end(`${ErrorCode.Unauthorized}: a valid ${what} token is required`);
}

/** Completes an upgrade with `data` as the socket's user data. */
export function acceptUpgrade(
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
  data: SocketData,
): void {
  res.upgrade<SocketData>(
    data,
    req.getHeader('sec-websocket-key'),
    req.getHeader('sec-websocket-protocol'),
    req.getHeader('sec-websocket-extensions'),
    context,
  );
}
