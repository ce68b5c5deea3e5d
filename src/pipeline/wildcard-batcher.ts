/**
 * Bus mode: the wildcard (`*`) frames of one event-loop turn, coalesced.
 *
 * On the embedded bus one feed frame becomes one wildcard frame. A bus
 * delivers per symbol instead (one JetStream message per symbol batch), so a
 * feed frame of 100 ticks over 100 symbols arrived as 100 messages, and
 * publishing each as its own wildcard frame sent every `*` subscriber about
 * ten times more frames than the embedded bus (3.6 M vs 0.32 M frames at 10k
 * ticks/s × 100 subscribers in the e2e benchmark), which swamped them. The
 * batcher collects the updates and publishes them as one frame when the turn
 * ends (setImmediate), or at once past MAX_FRAME bytes.
 *
 * Anything that sends a snapshot or a replay must `flush()` first: the
 * updates collected are already in the last-value cache, so a subscriber
 * added before the flush would otherwise get them twice.
 */
import type { Publisher } from './pipeline.js';
import { ALL_JSON_TOPIC, ALL_MSGPACK_TOPIC } from './topics.js';
import { writeArrayHeader } from './update-writer.js';

/** Largest array header (array32). */
const ARRAY_HEADER = 5;
/** A wildcard frame is published at once when it would grow past this. */
const MAX_FRAME = 256 * 1024;

export class WildcardBatcher {
  readonly #publisher: Publisher;
  /** Updates start at ARRAY_HEADER; the header goes in front at flush. */
  #buf = new Uint8Array(64 * 1024);
  #len = ARRAY_HEADER;
  #count = 0;
  #lastStart = 0;
  readonly #json: string[] = [];
  #scheduled = false;
  /** Bound once: no closure per batch. */
  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(publisher: Publisher) {
    this.#publisher = publisher;
  }

  /** Adds one MessagePack update for the `*` topic. */
  add(update: Uint8Array): void {
    const len = update.length;
    if (this.#len + len > MAX_FRAME && this.#count > 0) this.#flushMsgpack();
    if (this.#len + len > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + len));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#lastStart = this.#len;
    this.#buf.set(update, this.#len);
    this.#len += len;
    this.#count++;
    this.#schedule();
  }

  /** Adds one JSON update for the JSON `*` topic. */
  addJson(json: string): void {
    this.#json.push(json);
    this.#schedule();
  }

  /** Publishes what was collected. */
  flush(): void {
    if (this.#count > 0) this.#flushMsgpack();
    const json = this.#json;
    if (json.length > 0) {
      this.#publisher.publish(
        ALL_JSON_TOPIC,
        json.length === 1 ? json[0]! : `[${json.join(',')}]`,
        false,
        json.length,
      );
      json.length = 0;
    }
  }

  #flushMsgpack(): void {
    const count = this.#count;
    const buf = this.#buf;
    if (count === 1) {
      this.#publisher.publish(ALL_MSGPACK_TOPIC, buf.subarray(this.#lastStart, this.#len), true, 1);
    } else {
      const headerLen = count < 16 ? 1 : count < 0x10000 ? 3 : 5;
      const start = ARRAY_HEADER - headerLen;
      writeArrayHeader(buf, start, count);
      // uWS copies the message, so the buffer can be reused at once.
      this.#publisher.publish(ALL_MSGPACK_TOPIC, buf.subarray(start, this.#len), true, count);
    }
    this.#len = ARRAY_HEADER;
    this.#count = 0;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#onTurnEnd);
  }
}
