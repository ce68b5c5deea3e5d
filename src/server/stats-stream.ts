/**
 * /stats/stream: a WebSocket that receives one JSON text frame per second
 * holding the /stats body plus rates and memory (see docs/protocol.md). No
 * auth (connection limits and the Origin allow-list do apply); anything the
 * client sends is ignored. A snapshot is sent at once on open, then the
 * server's once-per-second publish to the `stats` topic.
 */
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import type { us_socket_context_t } from 'uWebSockets.js';
import type { Admission } from './admission.js';
import type { SocketData } from './socket-data.js';
import { acceptUpgrade } from './upgrade.js';

/** uWS topic of the stats snapshots (not a symbol topic). */
export const STATS_TOPIC = '$stats';

export interface StatsStreamCore {
  readonly sockets: Set<WebSocket<SocketData>>;
  statsListeners: number;
  statsSnapshot(): object;
  /** Connection limits and the Origin allow-list apply here too. */
  readonly admission: Admission;
}

export function statsStreamBehavior(core: StatsStreamCore): WebSocketBehavior<SocketData> {
  return {
    maxPayloadLength: 1024,
    maxBackpressure: 1024 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
      const ip = core.admission.admit(res, req, true);
      if (ip === undefined) return;
      acceptUpgrade(res, req, context, { kind: 'stats', ip, closed: false });
    },
    open(ws: WebSocket<SocketData>): void {
      core.sockets.add(ws);
      core.statsListeners++;
      core.admission.opened(ws.getUserData().ip);
      ws.send(JSON.stringify(core.statsSnapshot()), false);
      ws.subscribe(STATS_TOPIC);
    },
    close(ws: WebSocket<SocketData>): void {
      ws.getUserData().closed = true;
      core.sockets.delete(ws);
      core.statsListeners--;
      core.admission.released(ws.getUserData().ip);
    },
  };
}
