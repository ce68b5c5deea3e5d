/**
 * Raw HTTP/1.1 over node:net, for requests no HTTP client library would
 * send (conflicting framing headers, pipelined requests in one write): it
 * writes the bytes as given and parses every response the server sends on
 * that connection (status, headers, Content-Length body).
 */
import { createConnection } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawExchange {
  /** Every complete response, in order. */
  readonly responses: readonly RawResponse[];
  /** Whether the server closed the connection (FIN or reset) before the deadline. */
  readonly closedByServer: boolean;
  /** Bytes after the last complete response (should be none). */
  readonly rest: string;
}

/**
 * Writes `request` on a new connection to 127.0.0.1:`port` and collects the
 * responses until the server closes the connection, or `responses` of them
 * have arrived (when given), or `deadlineMs` passed (a failure for the
 * caller to report: `closedByServer` is then false).
 */
export function rawExchange(
  port: number,
  request: string | Buffer,
  opts: {
    readonly responses?: number;
    readonly deadlineMs?: number;
    /** The first `heads` responses answer HEAD requests: they have no body, whatever their Content-Length. */
    readonly heads?: number;
  } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, rest } = parseResponses(data, opts.heads);
      resolve({ responses, closedByServer, rest: rest.toString('latin1') });
    };
    const timer = setTimeout(() => finish(false), opts.deadlineMs ?? 5000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (
        opts.responses !== undefined &&
        parseResponses(data, opts.heads).responses.length >= opts.responses
      )
        finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/**
 * Complete responses at the start of `data`, and what follows them. The
 * first `heads` responses are read as answers to HEAD: header block only.
 */
export function parseResponses(
  data: Buffer,
  heads = 0,
): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const length = responses.length < heads ? 0 : Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    if (data.length < bodyStart + length) break;
    responses.push({
      status,
      headers,
      body: data.subarray(bodyStart, bodyStart + length).toString('utf8'),
    });
    at = bodyStart + length;
  }
  return { responses, rest: data.subarray(at) };
}
