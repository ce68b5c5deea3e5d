export { FeedClient } from './feed-client.js';
export type {
  Dropped,
  FeedClientEvents,
  FeedClientOptions,
  FrameAck,
  PublishResult,
} from './feed-client.js';
export { StreamClient } from './stream-client.js';
export type {
  Gap,
  RecoverySkipped,
  Reset,
  Resumed,
  StreamClientEvents,
  StreamClientOptions,
  StreamFormat,
  SubscribeOptions,
} from './stream-client.js';
export { State, backoffDelay } from './connection.js';
export type {
  ConnectFailed,
  ConnectionOptions,
  ReconnectOptions,
  WebSocketConstructor,
  WebSocketLike,
  WebSocketNodeOptions,
} from './connection.js';
export { Emitter } from './emitter.js';
export type { Listener } from './emitter.js';
export { ClientErrorCode, TickwireClientError } from './errors.js';
export { ErrorCode, CloseCode, ALL_SYMBOLS, MAX_BATCH } from '../../../src/protocol/codes.js';
export { isValidSymbol } from '../../../src/protocol/control.js';
export type {
  Tick,
  TickScalar,
  Update,
  SubscribedMessage,
  UnsubscribedMessage,
  SnapshotMessage,
  ErrorMessage,
  AckMessage,
} from '../../../src/protocol/types.js';
