/**
 * Server-side error hierarchy. Every error carries a stable `code`; tests
 * and callers branch on codes, never on messages. Wire error codes (those a
 * client sees in `{op:"error"}`) live in protocol/codes.ts.
 */
export const ServerErrorCode = {
  InvalidConfig: 'invalid_config',
  UwsFallback: 'uws_fallback',
  UwsUnavailable: 'uws_unavailable',
  ListenFailed: 'listen_failed',
  /** Journal (src/journal): a segment or record is damaged where a torn tail cannot explain it. */
  JournalCorrupt: 'journal_corrupt',
  /** A journal segment names a format version this build cannot read. */
  JournalUnsupportedVersion: 'journal_unsupported_version',
  /** Segments of one journal directory name different epochs (numbering identities). */
  JournalEpochMismatch: 'journal_epoch_mismatch',
  /** The file system failed under the journal (disk full, EIO, permissions). */
  JournalIo: 'journal_io',
  /** A journal append after close(). */
  JournalClosed: 'journal_closed',
  /** A journal append past the hard buffer limit (the caller ignored `saturated`). */
  JournalSaturated: 'journal_saturated',
  /** This Node.js has no `zlib.crc32` (it came in 20.15 / 22.2). */
  JournalUnavailable: 'journal_unavailable',
  /** Another live process (server or recorder) holds the journal directory's LOCK. */
  JournalLocked: 'journal_locked',
} as const;
export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];

export class TickwireError extends Error {
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option failed validation; the message names the option and the value. */
export class ConfigError extends TickwireError {
  constructor(message: string) {
    super(ServerErrorCode.InvalidConfig, message);
  }
}

/** uWebSockets.js loaded its slow JS fallback instead of the native binary. */
export class UwsFallbackError extends TickwireError {
  constructor(message: string) {
    super(ServerErrorCode.UwsFallback, message);
  }
}

/** No native uWebSockets.js binary loads for this Node.js, platform and glibc. */
export class UwsUnavailableError extends TickwireError {
  constructor(message: string) {
    super(ServerErrorCode.UwsUnavailable, message);
  }
}

/** The server could not listen on the requested host and port. */
export class ListenError extends TickwireError {
  constructor(message: string) {
    super(ServerErrorCode.ListenFailed, message);
  }
}
