/**
 * Opening a WebSocket to a tickwire server for the tools: the route's path
 * filled in when the URL has none, the token sent as `Authorization: Bearer`
 * (never in the URL, which ends up in logs), and every way the upgrade can
 * fail turned into a ToolError with a code: `upgrade_refused` (the server
 * answered with HTTP, e.g. 401 for a wrong token), `connect_failed` (no
 * connection, or no upgrade within the timeout).
 */
import WebSocket from 'ws';
import { ToolError } from './cli.js';

/** Close codes of RFC 6455 the server sends, by name, for messages. */
const CLOSE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal',
  1001: 'going away',
  1006: 'abnormal: no close frame',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'internal error',
};

/** `base` with `path` as its path when it has none (ws://HOST:PORT → ws://HOST:PORT/feed), plus `query`. */
export function routeUrl(base: URL, path: string, query: Record<string, string> = {}): URL {
  const url = new URL(base.href);
  if (url.pathname === '' || url.pathname === '/') url.pathname = path;
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** "1001 going away: server shutting down", for messages. */
export function describeClose(code: number, reason: string): string {
  const name = CLOSE_NAMES[code];
  const head = name === undefined ? `${code}` : `${code} ${name}`;
  return reason === '' ? head : `${head}: ${reason}`;
}

/** Opens `url`; resolves once the WebSocket is open. */
export function openSocket(
  url: URL,
  token: string | undefined,
  timeoutMs = 10_000,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> =
      token === undefined ? {} : { authorization: `Bearer ${token}` };
    const shown = `${url.protocol}//${url.host}${url.pathname}`;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    let settled = false;
    const fail = (err: ToolError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new ToolError('connect_failed', `${shown}: no upgrade within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      const refused = (): void => {
        const body = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
        const status = res.statusCode ?? 0;
        const hint = status === 401 ? ' (wrong or missing token)' : '';
        fail(
          new ToolError(
            'upgrade_refused',
            `${shown}: the server refused the upgrade with HTTP ${status}${hint}${body === '' ? '' : `: ${body.slice(0, 200)}`}`,
          ),
        );
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', refused);
      res.on('error', refused);
    });
    ws.on('error', (err) => {
      fail(new ToolError('connect_failed', `${shown}: ${err.message}`, { cause: err }));
    });
  });
}

/**
 * Closes `ws` from this side and resolves once the close handshake is done
 * (or after `timeoutMs`, the socket then terminated).
 */
export function closeSocket(ws: WebSocket, timeoutMs = 2000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, timeoutMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
  });
}
