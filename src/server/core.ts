/** What the route modules need from the server. */
import type { JournalLink } from './journal-link.js';
import type { WebSocket } from 'uWebSockets.js';
import type { NatsBus } from '../bus/nats-bus.js';
import type { Config } from '../config.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Admission } from './admission.js';
import type { Conflation } from './conflation.js';
import type { SocketData } from './socket-data.js';
import type { UwsPublisher } from './uws-publisher.js';

export class ConnectionCounts {
  feeds = 0;
  subscribers = 0;
  /** Subscribers closed with 1008 slow_consumer (hard limit or stall). */
  slowConsumersClosed = 0;
  /** Times a subscriber entered conflated delivery. */
  slowConsumersConflated = 0;
  /** Subscribers in conflated delivery now. */
  conflatingNow = 0;
  /** Updates skipped by conflation or throttle: the sum of the n-gaps subscribers were sent. */
  updatesDropped = 0;
}

export interface ServerCore {
  readonly config: Config;
  readonly pipeline: Pipeline;
  /** Every open WebSocket, for shutdown and the slow-consumer sweep. */
  readonly sockets: Set<WebSocket<SocketData>>;
  readonly connections: ConnectionCounts;
  /** Fan-out, with subscriber counts mirrored from uWS. */
  readonly publisher: UwsPublisher;
  /** Upgrade checks (connection limits, origin, shutdown) and refusal counters. */
  readonly admission: Admission;
  /** Slow-consumer policy, conflated and throttled delivery. */
  readonly conflation: Conflation;
  /** The NATS bus when --nats is set; undefined on the embedded bus. */
  readonly bus: NatsBus | undefined;
  /** The journal (--journal) once started; undefined without one. */
  readonly journal: JournalLink | undefined;
}
