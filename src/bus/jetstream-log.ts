/**
 * The sequencer's log over JetStream: append = publish with the
 * expected-last-subject-sequence guard and a message id (de-duplication);
 * next / last = a stream message get by subject (`next_by_subj` from a
 * sequence, `last_by_subj`).
 */
import { type JetStreamManager, NatsError } from 'nats';
import {
  AppendError,
  type JetStreamAppender,
  isPermanentAppendError,
} from './jetstream-appender.js';
import type { SequencedLog, StoredBatch } from './sequencer.js';
import { STREAM_NAME } from './stream.js';

/** JetStream API error: wrong last sequence for the subject. */
const JS_WRONG_LAST_SEQUENCE = 10071;
/** JetStream API error: no message found. */
const JS_NO_MESSAGE_FOUND = 10037;

export function jetStreamLog(
  appender: () => JetStreamAppender | undefined,
  jsm: () => JetStreamManager | undefined,
): SequencedLog {
  // A query by sequence and subject: nats.js 2.29 types MsgRequest without
  // next_by_subj, which the server understands since 2.9.
  const get = async (
    query:
      { readonly last_by_subj: string } | { readonly next_by_subj: string; readonly seq: number },
  ): Promise<StoredBatch | undefined> => {
    const manager = jsm();
    if (manager === undefined) throw new Error('NATS not connected yet');
    try {
      const m = await manager.streams.getMessage(STREAM_NAME, query);
      return { seq: m.seq, payload: m.data, msgId: m.header?.get('Nats-Msg-Id') ?? '' };
    } catch (err) {
      if (err instanceof NatsError && err.api_error?.err_code === JS_NO_MESSAGE_FOUND)
        return undefined;
      throw err;
    }
  };
  return {
    append: async (subject, payload, expectLastSeq, msgId) => {
      const a = appender();
      if (a === undefined) throw new Error('NATS not connected yet');
      return { seq: await a.append(subject, payload, expectLastSeq, msgId) };
    },
    next: (subject, after) => get({ next_by_subj: subject, seq: after + 1 }),
    last: (subject) => get({ last_by_subj: subject }),
    isConflict: (err) => err instanceof AppendError && err.errCode === JS_WRONG_LAST_SEQUENCE,
    isPermanent: isPermanentAppendError,
  };
}
