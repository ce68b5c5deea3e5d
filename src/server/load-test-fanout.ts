/**
 * The load test's own fan-out: a second uWS app next to the server's, with
 * its own topic tree, publisher (subscriber counts, deliveries) and listen
 * socket. Synthetic updates are published here only, so no /stream
 * subscriber ("*" included) can ever receive one: topics do not cross uWS
 * apps, and the server's app never publishes a synthetic update. (A topic
 * prefix on the server's own app would have worked too, but its sockets
 * would have counted in the server's connection limits, connections,
 * slow-consumer handling and /stats/stream rates, and would have needed a
 * /stream token, which a deployment may not have to give.)
 *
 * The app listens on the loopback only while a run's subscribers connect
 * (port 0: a fresh port each run) and admits only upgrades that present that
 * run's key, a random secret only the load tester knows, compared in
 * constant time; then it stops listening. Its one route, `/loadtest`, puts
 * each connection on the wildcard topic; whatever the connection sends is
 * ignored.
 */
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  us_listen_socket,
  us_socket_context_t,
} from 'uWebSockets.js';
import { ErrorCode } from '../protocol/codes.js';
import { ALL_MSGPACK_TOPIC } from '../pipeline/topics.js';
import { TokenCheck } from './auth.js';
import { UwsPublisher } from './uws-publisher.js';
import { uws } from './uws.js';

/** The one WebSocket path of the load-test app. */
export const LOAD_TEST_PATH = '/loadtest';
/** The query parameter carrying the run's key. */
export const LOAD_TEST_KEY_PARAM = 'key';
/** Where the load-test app listens. */
export const LOAD_TEST_HOST = '127.0.0.1';

/** What uWS keeps per load-test connection (nothing: the set below is enough). */
type FanoutData = Record<string, never>;

export class LoadTestFanout {
  /** The load-test pipeline's publisher: counts synthetic deliveries only. */
  readonly publisher: UwsPublisher;
  readonly #app: TemplatedApp;
  readonly #sockets = new Set<WebSocket<FanoutData>>();
  #key: TokenCheck | undefined;
  #listenSocket: us_listen_socket | undefined;

  /**
   * `maxBackpressure`: bytes a load-test subscriber may queue; past it uWS
   * skips it on publish (its messages_received then falls behind).
   */
  constructor(maxBackpressure: number) {
    this.#app = uws.App();
    this.publisher = new UwsPublisher(this.#app);
    // Registered before any publish: uWS creates the topic tree with the first ws() route.
    this.#app.ws<FanoutData>(LOAD_TEST_PATH, {
      maxPayloadLength: 1024,
      maxBackpressure,
      idleTimeout: 0,
      upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
        this.#upgrade(res, req, context);
      },
      open: (ws: WebSocket<FanoutData>) => {
        this.#sockets.add(ws);
        ws.subscribe(ALL_MSGPACK_TOPIC);
      },
      subscription: (_ws: WebSocket<FanoutData>, topic: ArrayBuffer, newCount: number) => {
        this.publisher.onSubscription(topic, newCount);
      },
      close: (ws: WebSocket<FanoutData>) => {
        this.#sockets.delete(ws);
      },
    });
    this.#app.any('/*', (res: HttpResponse) => {
      res.writeStatus('404 Not Found').end('not found', true);
    });
  }

  /** Load-test connections open now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Listens on the loopback (a fresh port) for connections presenting
   * `key`; returns the URL to connect to. Throws when it cannot listen.
   */
  listen(key: string): string {
    this.stopListening();
    let port = 0;
    this.#app.listen(LOAD_TEST_HOST, 0, (token: us_listen_socket | false) => {
      if (token === false) return;
      this.#listenSocket = token;
      port = uws.us_socket_local_port(token);
    });
    if (this.#listenSocket === undefined) {
      throw new Error(`the load test could not listen on ${LOAD_TEST_HOST}`);
    }
    this.#key = new TokenCheck(key);
    const query = `${LOAD_TEST_KEY_PARAM}=${encodeURIComponent(key)}`;
    return `ws://${LOAD_TEST_HOST}:${port}${LOAD_TEST_PATH}?${query}`;
  }

  /** Accepts no more connections (those open stay). */
  stopListening(): void {
    this.#key = undefined;
    if (this.#listenSocket === undefined) return;
    uws.us_listen_socket_close(this.#listenSocket);
    this.#listenSocket = undefined;
  }

  /** Stops listening and closes every load-test connection. */
  close(): void {
    this.stopListening();
    for (const ws of [...this.#sockets]) ws.close();
  }

  #upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const key = new URLSearchParams(req.getQuery() ?? '').get(LOAD_TEST_KEY_PARAM) ?? undefined;
    if (this.#key === undefined || !this.#key.matches(key)) {
      res
        .writeStatus('401 Unauthorized')
        .end(`${ErrorCode.Unauthorized}: not a load-test run`, true);
      return;
    }
    res.upgrade<FanoutData>(
      {},
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  }
}
