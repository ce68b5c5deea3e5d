/**
 * Feed acknowledgements in bus mode. With NATS a tick counts as accepted
 * only once JetStream has stored it, which happens asynchronously and per
 * symbol in any order; acks must still go out in frame order, each after
 * all of its frame's ticks are stored (or failed for good: those move from
 * accepted to rejected). One ticket per frame (not per tick), queued; the
 * head of the queue is sent as soon as it completes. The queue is a Fifo
 * (head index), so sending N acks costs O(N), however many frames are
 * outstanding. Sending is the owner's: /feed passes FeedReplies.ack, which
 * checks the feed's queue after each ack (feed-replies.ts).
 */
import { Fifo } from '../bus/fifo.js';
import type { StoreTicket } from '../pipeline/pipeline.js';

export type SendAck = (frame: number, accepted: number, rejected: number) => void;

export class AckTicket implements StoreTicket {
  readonly frame: number;
  readonly #owner: FeedAcks;
  accepted = 0;
  rejected = 0;
  /** Ticks not yet stored; NaN until the frame's outcome is known. */
  remaining = Number.NaN;
  #storedEarly = 0;
  #failedEarly = 0;

  constructor(owner: FeedAcks, frame: number) {
    this.#owner = owner;
    this.frame = frame;
  }

  /** The pipeline's verdict for the frame. */
  settle(accepted: number, rejected: number): void {
    this.accepted = accepted - this.#failedEarly;
    this.rejected = rejected + this.#failedEarly;
    this.remaining = this.accepted - this.#storedEarly;
    if (this.remaining === 0) this.#owner.flush();
  }

  stored(count: number): void {
    if (Number.isNaN(this.remaining)) {
      this.#storedEarly += count;
      return;
    }
    this.remaining -= count;
    if (this.remaining === 0) this.#owner.flush();
  }

  failed(count: number): void {
    if (Number.isNaN(this.remaining)) {
      this.#failedEarly += count;
      return;
    }
    this.accepted -= count;
    this.rejected += count;
    this.remaining -= count;
    if (this.remaining === 0) this.#owner.flush();
  }
}

export class FeedAcks {
  readonly #send: SendAck;
  readonly #queue = new Fifo<AckTicket>();

  constructor(send: SendAck) {
    this.#send = send;
  }

  /** Frames whose ack has not been sent yet. */
  get outstanding(): number {
    return this.#queue.length;
  }

  /** A ticket for `frame`, to pass to the pipeline and then `settle`. */
  open(frame: number): AckTicket {
    const t = new AckTicket(this, frame);
    this.#queue.push(t);
    return t;
  }

  /** Sends every completed ack at the head of the queue, in order. */
  flush(): void {
    const q = this.#queue;
    for (let t = q.at(0); t !== undefined && t.remaining === 0; t = q.at(0)) {
      q.shift();
      this.#send(t.frame, t.accepted, t.rejected);
    }
  }
}
