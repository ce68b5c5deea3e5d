/**
 * Errors of the journal (src/journal): TickwireErrors with the journal_*
 * codes of the one catalogue (src/errors.ts). Callers and tests branch on
 * `code`, never on the message.
 */
import { ServerErrorCode, TickwireError } from '../errors.js';

/** The journal's codes, by short name (each a ServerErrorCode). */
export const JournalErrorCode = {
  Corrupt: ServerErrorCode.JournalCorrupt,
  UnsupportedVersion: ServerErrorCode.JournalUnsupportedVersion,
  EpochMismatch: ServerErrorCode.JournalEpochMismatch,
  Io: ServerErrorCode.JournalIo,
  Closed: ServerErrorCode.JournalClosed,
  Saturated: ServerErrorCode.JournalSaturated,
  Unavailable: ServerErrorCode.JournalUnavailable,
  Locked: ServerErrorCode.JournalLocked,
} as const;
export type JournalErrorCode = (typeof JournalErrorCode)[keyof typeof JournalErrorCode];

export class JournalError extends TickwireError {
  declare readonly code: JournalErrorCode;

  constructor(code: JournalErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Wraps a file-system error (or anything thrown by fs) as `journal_io`. */
export function ioError(what: string, cause: unknown): JournalError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new JournalError(JournalErrorCode.Io, `journal: ${what}: ${detail}`, { cause });
}
