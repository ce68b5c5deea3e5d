/**
 * /stream: subscribers. Control messages arrive as MessagePack maps (binary)
 * or JSON objects (text); replies and updates use the connection's format.
 *
 * Ordering after a subscribe: `subscribed`, then `snapshot`, then live
 * updates. The two replies are sent and the topics subscribed in the same
 * synchronous call, so no update can be published in between; uWS keeps
 * send and publish in order (v20).
 *
 * A socket subscribed to "*" listens on the wildcard topic only (its named
 * subscriptions are remembered but their topics left), so each update
 * reaches it once: uWS would deliver a message published to two topics of
 * one socket twice. Every socket also holds HOLD_TOPIC (uws-publisher.ts),
 * so leaving a topic never drops what uWS still holds for it this turn.
 *
 * Control messages are budgeted per connection (control-budget.ts), and a
 * subscribe is refused while the socket's queue is above conflateAt: its
 * snapshot would only make a queue that is not being read longer.
 */
import { Unpackr } from 'msgpackr';
import type {
  HttpRequest,
  HttpResponse,
  WebSocket,
  WebSocketBehavior,
  us_socket_context_t,
} from 'uWebSockets.js';
import { ALL_SYMBOLS, CloseCode, ErrorCode } from '../protocol/codes.js';
import { parseControl, parseSymbolList } from '../protocol/control.js';
import { jsonNestsWithin } from '../protocol/json-depth.js';
import { MAX_DEPTH, isSafeMessagePack } from '../protocol/tick-scanner.js';
import { nowUs } from '../pipeline/clock.js';
import { ALL_JSON_TOPIC, ALL_MSGPACK_TOPIC, topicFor } from '../pipeline/topics.js';
import { TokenCheck, presentedToken } from './auth.js';
import { workTokens } from './control-budget.js';
import type { ServerCore } from './core.js';
import { PERSIST_MS, RateVerdict, TokenBucket } from './rate-limit.js';
import { acceptUpgrade, refuseUnauthorized } from './upgrade.js';
import { type Reply, encodeReply, errorReply, jsonPong, msgpackPong } from './replies.js';
import { jsonMemberValue, msgpackMapValue } from '../protocol/echo.js';
import type { SocketData, StreamSocketData } from './socket-data.js';
import { HOLD_TOPIC } from './uws-publisher.js';

const UNPACKER = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const TEXT = new TextDecoder('utf-8', { fatal: true });
/** Bytes a subscriber may queue past maxBackpressure before uWS itself cuts it off. */
const BACKPRESSURE_HEADROOM = 16 * 1024 * 1024;
/**
 * uWS's own cap on a /stream message (and on what an unfinished one may
 * hold): four times --max-stream-frame. Messages between the limit and the
 * cap are read and closed with 1009 payload_too_large by the message handler;
 * uWS refuses a longer one while it arrives and cuts the socket (1006, no
 * close frame). The cap is small on purpose: uWS gives the application no
 * event for a fragment and resets the idle timer on any byte, so a message
 * that never finishes is held as long as its connection lives (see
 * docs/reliability.md, "Unfinished messages").
 */
export function streamMessageCap(maxStreamFrame: number): number {
  return 4 * maxStreamFrame;
}

type StreamSocket = WebSocket<SocketData>;

export function streamBehavior(core: ServerCore): WebSocketBehavior<SocketData> {
  const { config, sockets, connections } = core;
  const tokens = config.streamToken === undefined ? undefined : new TokenCheck(config.streamToken);
  return {
    // Bounds what one connection's unfinished message may hold (see streamMessageCap).
    maxPayloadLength: streamMessageCap(config.maxStreamFrame),
    // The periodic sweep closes a subscriber past maxBackpressure with 1008
    // slow_consumer. uWS's own cap is only a last-resort memory bound: past it
    // uWS drops the close frame and cuts the socket (1006, uncounted). One
    // event-loop iteration can queue far more than the limit (a full kernel
    // buffer, then a burst of feed frames), so a cap of 2x the limit was
    // reached before any sweep ran; the cap now leaves a fixed headroom.
    maxBackpressure: Math.max(
      config.maxBackpressure * 2,
      config.maxBackpressure + BACKPRESSURE_HEADROOM,
    ),
    // Past the cap uWS closes the socket rather than silently skipping it on publish.
    closeOnBackpressureLimit: 1,
    idleTimeout: config.idleTimeoutS,
    sendPingsAutomatically: true,

    upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
      // Connection limits and the Origin allow-list first (see admission.ts).
      const ip = core.admission.admit(res, req, true);
      if (ip === undefined) return;
      const query = new URLSearchParams(req.getQuery() ?? '');
      if (
        tokens !== undefined &&
        !tokens.matches(presentedToken(req.getHeader('authorization'), query))
      ) {
        refuseUnauthorized(res, 'stream');
        return;
      }
      const format = query.get('format') ?? 'msgpack';
      if (format !== 'msgpack' && format !== 'json') {
        res
          .writeStatus('400 Bad Request')
          .end(`${ErrorCode.BadRequest}: format must be msgpack or json`);
        return;
      }
      const symbolsParam = query.get('symbols');
      let initial: readonly string[] | string | undefined;
      if (symbolsParam !== null)
        initial = parseSymbolList(symbolsParam.split(',').filter((s) => s !== ''));
      const data: StreamSocketData = {
        kind: 'stream',
        json: format === 'json',
        symbols: new Set(),
        all: false,
        initial,
        ip,
        closed: false,
        budget:
          config.controlRate > 0
            ? new TokenBucket(config.controlRate, config.controlBurst, performance.now())
            : undefined,
        replyAllowance: 0,
      };
      acceptUpgrade(res, req, context, data);
    },

    open(ws: StreamSocket): void {
      sockets.add(ws);
      connections.subscribers++;
      core.admission.opened(ws.getUserData().ip);
      // Never published; keeps the socket from leaving its last topic (see HOLD_TOPIC).
      ws.subscribe(HOLD_TOPIC);
      const data = ws.getUserData() as StreamSocketData;
      if (typeof data.initial === 'string') {
        reply(ws, errorReply(ErrorCode.BadRequest, `symbols query parameter: ${data.initial}`));
      } else if (data.initial !== undefined) {
        const now = performance.now();
        if (admit(ws, data, 1 + workTokens(subscribeWork(core, data, data.initial)), now)) {
          subscribe(core, ws, data, data.initial);
        }
      }
    },

    message(ws: StreamSocket, message: ArrayBuffer, isBinary: boolean): void {
      const data = ws.getUserData() as StreamSocketData;
      // Being closed as a slow consumer: nothing more is read or answered.
      if (data.closing !== undefined) return;
      if (message.byteLength > config.maxStreamFrame) {
        ws.end(
          CloseCode.MessageTooBig,
          `${ErrorCode.PayloadTooLarge}: frames on /stream are limited to ${config.maxStreamFrame} bytes`,
        );
        return;
      }
      const now = performance.now();
      const decoded = decodeControl(message, isBinary);
      if (typeof decoded === 'string') {
        reply(ws, errorReply(ErrorCode.BadRequest, decoded));
        return;
      }
      const parsed = parseControl(decoded.value);
      if (!parsed.ok) {
        reply(ws, errorReply(ErrorCode.BadRequest, parsed.message));
        return;
      }
      const request = parsed.request;
      switch (request.op) {
        case 'subscribe':
          // A snapshot on top of a queue that is not being read only makes
          // the queue longer: refused until it drains (conflateAt).
          if (ws.getBufferedAmount() > config.conflateAt) {
            refuse(
              ws,
              data,
              now,
              `subscribe refused while over ${config.conflateAt} bytes are queued for you`,
            );
            return;
          }
          if (!admit(ws, data, 1 + workTokens(subscribeWork(core, data, request.symbols)), now))
            return;
          subscribe(
            core,
            ws,
            data,
            request.symbols,
            request.since,
            request.throttle,
            request.epoch,
          );
          break;
        case 'unsubscribe':
          if (!admit(ws, data, 1 + workTokens(unsubscribeWork(data, request.symbols)), now)) return;
          unsubscribe(core, ws, data, request.symbols);
          break;
        case 'ping':
          pong(ws, data, message, isBinary, request.id);
          break;
      }
    },

    subscription(_ws: StreamSocket, topic: ArrayBuffer, newCount: number): void {
      core.publisher.onSubscription(topic, newCount);
    },

    // Conflated subscribers catch up as their queue drains (conflation.ts).
    drain(ws: StreamSocket): void {
      core.conflation.drain(ws);
    },

    close(ws: StreamSocket): void {
      ws.getUserData().closed = true;
      core.conflation.closed(ws.getUserData() as StreamSocketData);
      sockets.delete(ws);
      connections.subscribers--;
      core.admission.released(ws.getUserData().ip);
    },
  };
}

/** Decodes a control frame; returns a bad_request message on failure. */
function decodeControl(message: ArrayBuffer, isBinary: boolean): { value: unknown } | string {
  if (isBinary) {
    const bytes = new Uint8Array(message);
    // Bounded pre-scan before the general decoder: no ext types, declared
    // lengths that fit, nesting ≤ MAX_DEPTH (msgpackr would preallocate from
    // hostile array headers, and every later encode of a value recurses).
    if (!isSafeMessagePack(bytes)) {
      return `not valid MessagePack, uses extension types, or nests deeper than ${MAX_DEPTH} levels`;
    }
    try {
      return { value: UNPACKER.unpack(bytes) as unknown };
    } catch {
      return 'not valid MessagePack';
    }
  }
  // The same depth bound for JSON, on the bytes, before anything decodes
  // them: a pong or an error re-encodes what was parsed (json-depth.ts).
  const bytes = new Uint8Array(message);
  if (!jsonNestsWithin(bytes)) return `nests deeper than ${MAX_DEPTH} levels`;
  try {
    return { value: JSON.parse(TEXT.decode(bytes)) as unknown };
  } catch {
    return 'not valid JSON';
  }
}

/**
 * Takes `cost` control tokens (see control-budget.ts). When there are too
 * few, answers rate_limited (the message is not applied), or closes the
 * connection with 1008 when it has been over its budget for PERSIST_MS.
 */
function admit(ws: StreamSocket, data: StreamSocketData, cost: number, now: number): boolean {
  const budget = data.budget;
  if (budget === undefined || cost === 0) return true;
  const verdict = budget.take(cost, now);
  if (verdict === RateVerdict.Ok) return true;
  answerRefusal(ws, verdict, 'over the subscribe/unsubscribe budget (--control-rate): not applied');
  return false;
}

/** A control message refused for another reason than its tokens: it counts as a refusal. */
function refuse(ws: StreamSocket, data: StreamSocketData, now: number, why: string): void {
  const verdict = data.budget?.refuse(now) ?? RateVerdict.Refused;
  answerRefusal(ws, verdict, why);
}

function answerRefusal(ws: StreamSocket, verdict: RateVerdict, why: string): void {
  if (verdict === RateVerdict.Close) {
    ws.end(
      CloseCode.PolicyViolation,
      `${ErrorCode.RateLimited}: control messages refused for ${PERSIST_MS / 1000} s`,
    );
    return;
  }
  reply(ws, errorReply(ErrorCode.RateLimited, why));
}

/** Symbols a subscribe makes the server touch: its snapshot, and named topics left for "*". */
function subscribeWork(
  core: ServerCore,
  data: StreamSocketData,
  symbols: readonly string[],
): number {
  if (!symbols.includes(ALL_SYMBOLS)) return symbols.length;
  return symbols.length + core.pipeline.symbols.size + (data.all ? 0 : data.symbols.size);
}

/** Symbols an unsubscribe makes the server touch: dropping "*" rejoins the named topics. */
function unsubscribeWork(data: StreamSocketData, symbols: readonly string[]): number {
  return symbols.length + (data.all && symbols.includes(ALL_SYMBOLS) ? data.symbols.size : 0);
}

/**
 * Answers a ping. When the request came in the connection's own encoding,
 * the id goes back as the very bytes (or JSON text) the client sent, since
 * decoding and re-encoding is lossy at the edges (uint64 past 2^53,
 * `__proto__` or integer map keys); otherwise the decoded id is encoded.
 */
function pong(
  ws: StreamSocket,
  data: StreamSocketData,
  message: ArrayBuffer,
  isBinary: boolean,
  id: unknown,
): void {
  const time = nowUs();
  if (isBinary && !data.json) {
    const bytes = new Uint8Array(message);
    const span = msgpackMapValue(bytes, 'id');
    ws.send(msgpackPong(span && bytes.slice(span[0], span[1]), time), true);
  } else if (!isBinary && data.json) {
    const text = TEXT.decode(message);
    const span = jsonMemberValue(text, 'id');
    ws.send(jsonPong(span && text.slice(span[0], span[1]), time), false);
  } else {
    reply(ws, { op: 'pong', id, time });
  }
}

function reply(ws: StreamSocket, message: Reply): void {
  const json = (ws.getUserData() as StreamSocketData).json;
  ws.send(encodeReply(message, json), !json);
}

function subscribe(
  core: ServerCore,
  ws: StreamSocket,
  data: StreamSocketData,
  symbols: readonly string[],
  since?: Readonly<Record<string, number>>,
  throttle = 0,
  epoch?: string,
): void {
  const wantsAll = symbols.includes(ALL_SYMBOLS);
  let added = 0;
  for (const s of symbols) if (s !== ALL_SYMBOLS && !data.symbols.has(s)) added++;
  const total = data.symbols.size + added + (wantsAll || data.all ? 1 : 0);
  if (total > core.config.maxSubscriptions) {
    reply(
      ws,
      errorReply(
        ErrorCode.TooManySubscriptions,
        `a connection may hold ${core.config.maxSubscriptions} subscriptions; this request would make ${total}`,
      ),
    );
    return;
  }
  const json = data.json;
  const named = symbols.filter((s) => s !== ALL_SYMBOLS);
  // The updates held for the end of this turn (turn-batcher.ts) go out
  // before `subscribed` (a socket already on a topic would otherwise get them
  // between `subscribed` and the snapshot, which holds them too).
  core.pipeline.flush();
  let sent: Uint8Array | string | null;
  const current = core.pipeline.epoch;
  if (since === undefined) {
    // 1. subscribed, 2. snapshot
    reply(ws, { op: 'subscribed', symbols, epoch: current });
    sent = core.pipeline.snapshot(named, wantsAll, json);
  } else if (epoch !== current) {
    // A `since` of another numbering (or one that does not say which): its
    // numbers mean nothing here, so never a replay (docs/protocol.md, epochs).
    reply(ws, { op: 'subscribed', symbols, recovered: false, epoch: current });
    sent = core.pipeline.snapshot(named, wantsAll, json);
  } else {
    // With `since`: the missed updates from history instead of the snapshot
    // when every gap is still there (see Pipeline.replay), else the snapshot.
    // A replay is bounded by conflateAt in the connection's format: a larger
    // one would be conflated at once (JSON runs larger than the MessagePack
    // the pipeline measures, so its output is measured again).
    const limit = Math.min(core.config.conflateAt, core.config.maxBackpressure);
    let replay = core.pipeline.replay(named, wantsAll, since, json, limit);
    if (typeof replay === 'string' && Buffer.byteLength(replay) > limit) replay = undefined;
    reply(ws, { op: 'subscribed', symbols, recovered: replay !== undefined, epoch: current });
    sent = replay === undefined ? core.pipeline.snapshot(named, wantsAll, json) : replay;
  }
  if (sent !== null) {
    ws.send(sent, !json);
    // It may take the queue past maxBackpressure until it drains (conflation.ts).
    data.replyAllowance += typeof sent === 'string' ? Buffer.byteLength(sent) : sent.length;
  }
  // Throttled or conflated subscribers: topics and timers are managed by
  // conflation.ts from the first time (same synchronous call).
  if (throttle > 0 || data.delivery !== undefined) {
    core.conflation.subscribed(ws, data, symbols, throttle);
    return;
  }
  // 3. live updates from now on
  const format = json ? 'json' : 'msgpack';
  if (wantsAll && !data.all) {
    data.all = true;
    // Join "*" before leaving the named topics.
    ws.subscribe(json ? ALL_JSON_TOPIC : ALL_MSGPACK_TOPIC);
    for (const s of data.symbols) ws.unsubscribe(topicFor(s, format));
  }
  for (const s of named) {
    if (data.symbols.has(s)) continue;
    data.symbols.add(s);
    if (!data.all) ws.subscribe(topicFor(s, format));
  }
}

function unsubscribe(
  core: ServerCore,
  ws: StreamSocket,
  data: StreamSocketData,
  symbols: readonly string[],
): void {
  // Updates that arrived before this request (held for the end of the
  // turn) reach the socket before it leaves their topics, as they did when
  // each feed frame was published at once.
  core.pipeline.flush();
  if (data.delivery !== undefined) {
    core.conflation.unsubscribed(ws, data, symbols);
    reply(ws, { op: 'unsubscribed', symbols });
    return;
  }
  const format = data.json ? 'json' : 'msgpack';
  for (const s of symbols) {
    if (s === ALL_SYMBOLS || !data.symbols.delete(s)) continue;
    if (!data.all) ws.unsubscribe(topicFor(s, format));
  }
  if (symbols.includes(ALL_SYMBOLS) && data.all) {
    // This turn's held "*" frame goes out before the socket leaves "*" (its
    // named topics held none for it: it was not on them).
    core.pipeline.flush();
    data.all = false;
    // Join the named topics before leaving "*".
    for (const s of data.symbols) ws.subscribe(topicFor(s, format));
    ws.unsubscribe(data.json ? ALL_JSON_TOPIC : ALL_MSGPACK_TOPIC);
  }
  reply(ws, { op: 'unsubscribed', symbols });
}
