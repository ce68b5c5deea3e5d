import type { ErrorCode } from '../../../src/protocol/codes.js';

/** Error codes the client raises itself (the server's codes come from ErrorCode). */
export const ClientErrorCode = {
  /** The connection closed before an acknowledgement or pong arrived. */
  ConnectionLost: 'connection_lost',
  /** close() was called. */
  Closed: 'closed',
  /**
   * No connection could be made: one failed attempt (the `connectFailed`
   * event), or the client gave up (`maxRetries` or `connectTimeoutMs` reached).
   */
  ConnectFailed: 'connect_failed',
  /** A ping got no pong in time. */
  Timeout: 'timeout',
  /** A queued frame waited longer than `maxQueueAgeMs` and was dropped unsent. */
  Expired: 'expired',
  /** A queued frame was dropped unsent: more than `maxQueuedFrames` were waiting. */
  QueueFull: 'queue_full',
  /**
   * The server acknowledged a later frame but never this one (acks come in
   * order): whether its ticks were published is unknown.
   */
  AckMissing: 'ack_missing',
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Every error the SDK emits or rejects with. Branch on `code`, never on `message`. */
export class TickwireClientError extends Error {
  override readonly name = 'TickwireClientError';
  readonly code: ErrorCode | ClientErrorCode;
  /** For bad_tick: indices of the rejected ticks in the frame (first 16). */
  readonly indices: readonly number[] | undefined;
  /** For errors that came with a WebSocket close: its code. */
  readonly closeCode: number | undefined;

  constructor(
    code: ErrorCode | ClientErrorCode,
    message: string,
    extra: { readonly indices?: readonly number[]; readonly closeCode?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.indices = extra.indices;
    this.closeCode = extra.closeCode;
  }
}
