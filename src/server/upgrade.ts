/** Shared pieces of the WebSocket routes' upgrade handlers. */
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

/**
 * Refuses an upgrade with `status` (e.g. '429 Too Many Requests') and a body
 * starting with a code; closes the HTTP connection after the answer so that
 * refused clients hold no socket. `retryAfterS` adds a Retry-After header.
 */
export function refuseUpgrade(
  res: HttpResponse,
  status: string,
  body: string,
  retryAfterS?: number,
): void {
  res.writeStatus(status);
  if (retryAfterS !== undefined) res.writeHeader('Retry-After', String(retryAfterS));
  res.end(body, true);
}

const ADDRESS_TEXT = new TextDecoder();
const V4_MAPPED = '0000:0000:0000:0000:0000:ffff:';

/**
 * The TCP peer's address as text ('127.0.0.1', or uWS's full IPv6 form),
 * read from the response; valid only during the upgrade handler. IPv4
 * addresses mapped into IPv6 (a listener on '::') come out as IPv4, so one
 * client counts once whichever way it connected.
 */
export function remoteAddress(res: HttpResponse): string {
  const text = ADDRESS_TEXT.decode(res.getRemoteAddressAsText());
  if (text.length === 39 && text.startsWith(V4_MAPPED)) {
    const hi = parseInt(text.slice(30, 34), 16);
    const lo = parseInt(text.slice(35, 39), 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return text;
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
