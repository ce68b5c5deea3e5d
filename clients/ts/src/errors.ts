import type { ErrorCode } from '../../../src/protocol/codes.js';

/** Error codes the client raises itself (the server's codes come from ErrorCode). */
export const ClientErrorCode = {
  /** The connection closed before an acknowledgement or pong arrived. */
  ConnectionLost: 'connection_lost',
  /** close() was called. */
  Closed: 'closed',
  /** The client gave up reconnecting (maxRetries reached). */
  ConnectFailed: 'connect_failed',
  /** A ping got no pong in time. */
  Timeout: 'timeout',
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
