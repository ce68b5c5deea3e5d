/**
 * NATS subjects for symbols: `tickwire.tick.<symbol>`, with "." in a symbol
 * written as "~" (a NATS subject splits on "."; "~" is not a symbol
 * character, so the mapping is one-to-one). The stream captures
 * `tickwire.tick.>`.
 */
export const SUBJECT_PREFIX = 'tickwire.tick.';
export const ALL_SUBJECTS = 'tickwire.tick.>';

export function subjectFor(symbol: string): string {
  return SUBJECT_PREFIX + symbol.replaceAll('.', '~');
}

/** The symbol of a subject, or undefined when it is not a tick subject. */
export function symbolOf(subject: string): string | undefined {
  if (!subject.startsWith(SUBJECT_PREFIX)) return undefined;
  return subject.slice(SUBJECT_PREFIX.length).replaceAll('~', '.');
}
