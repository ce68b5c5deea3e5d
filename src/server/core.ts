/** What the route modules need from the server. */
import type { WebSocket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { SocketData } from './socket-data.js';
import type { UwsPublisher } from './uws-publisher.js';

export class ConnectionCounts {
  feeds = 0;
  subscribers = 0;
  /** Subscribers closed for exceeding maxBackpressure. */
  slowConsumersClosed = 0;
}

export interface ServerCore {
  readonly config: Config;
  readonly pipeline: Pipeline;
  /** Every open WebSocket, for shutdown and the slow-consumer sweep. */
  readonly sockets: Set<WebSocket<SocketData>>;
  readonly connections: ConnectionCounts;
  /** Fan-out, with subscriber counts mirrored from uWS. */
  readonly publisher: UwsPublisher;
}
