/**
 * HTTP/1.1 framing checks, run first on every request tickwire handles (the
 * HTTP routes and the WebSocket upgrades): a request whose headers leave its
 * length ambiguous is refused, so that no proxy in front can read one
 * request where the server reads two (request smuggling). uWS reads only the
 * first `Content-Length` and parses whatever follows as the next request.
 *
 * Refused (RFC 9112 §6.3, §3.2): several `Content-Length` values that
 * differ, or one that is not a decimal number; `Transfer-Encoding` together
 * with `Content-Length` (uWS itself refuses the pair only when the first
 * `Transfer-Encoding` is not empty); `Transfer-Encoding` other than exactly
 * one `chunked` (uWS takes any value for chunked); more than one `Host`.
 * Repeating one `Content-Length` value is allowed (RFC 9110 §8.6).
 *
 * The answer is HTTP 400, a body starting `bad_request`, `Connection:
 * close`, and the connection closed before uWS parses anything after the
 * request (see refuseFraming).
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ErrorCode } from '../protocol/codes.js';
import { uwsNative } from './uws.js';

const DIGITS = /^[0-9]+$/;

/**
 * What is wrong with `req`'s framing headers, or undefined when nothing is.
 * Walks every header (req.getHeader returns only the first of a name).
 */
export function framingFault(req: HttpRequest): string | undefined {
  let contentLength: string | undefined;
  let transferEncodings = 0;
  let hosts = 0;
  let fault: string | undefined;
  // The JS fallback of uWS (--allow-uws-fallback, HTTP diagnostics only)
  // throws "Not implemented" from forEach: nothing to check there (its own
  // parser, Node's, frames requests).
  if (!uwsNative) return undefined;
  req.forEach((key, value) => {
    if (fault !== undefined) return;
    if (key === 'content-length') {
      if (!DIGITS.test(value)) fault = 'Content-Length is not a decimal number';
      else if (contentLength !== undefined && contentLength !== value)
        fault = 'Content-Length headers disagree';
      contentLength = value;
    } else if (key === 'transfer-encoding') {
      transferEncodings++;
      if (value.toLowerCase() !== 'chunked')
        fault = 'Transfer-Encoding other than chunked is not supported';
    } else if (key === 'host') {
      hosts++;
    }
  });
  if (fault !== undefined) return fault;
  if (transferEncodings > 1) return 'more than one Transfer-Encoding header';
  if (transferEncodings > 0 && contentLength !== undefined)
    return 'both Content-Length and Transfer-Encoding';
  if (hosts > 1) return 'more than one Host header';
  return undefined;
}

/**
 * Past uWS's cork buffer (16 KiB). A response is written into that buffer
 * and sent after the handler returns, and `end(body, true)` closes the
 * connection only when nothing is left corked; meanwhile uWS parses the rest
 * of what it read as further requests (and a later request resets the
 * close). A body longer than the buffer makes uWS send the response at once
 * and close the socket inside the handler, which stops its parser: nothing
 * after the refused request is answered. Trailing spaces, for hostile
 * requests only.
 */
const FLUSH_PADDING = ' '.repeat(16 * 1024);

/**
 * Answers HTTP 400 `bad_request: <fault>` with `Connection: close` and
 * closes the connection at once (see FLUSH_PADDING). Call it synchronously
 * in the handler, before anything else is written.
 */
export function refuseFraming(res: HttpResponse, fault: string): void {
  res
    .writeStatus('400 Bad Request')
    .writeHeader('Content-Type', 'text/plain; charset=utf-8')
    .end(`${ErrorCode.BadRequest}: ${fault}\n${FLUSH_PADDING}`, true);
}

/**
 * The framing check of one request: refuses it (see refuseFraming) and
 * returns false when its framing headers conflict.
 */
export function framingAccepted(res: HttpResponse, req: HttpRequest): boolean {
  const fault = framingFault(req);
  if (fault === undefined) return true;
  refuseFraming(res, fault);
  return false;
}
