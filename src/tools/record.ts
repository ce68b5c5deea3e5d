/**
 * Records what a /stream subscriber receives into a journal directory, in
 * the server's own format: every update's bytes exactly as sent (with `n`
 * and `r`), snapshot ticks included (they are updates too). The journal is
 * opened when the snapshot arrives, with the snapshot's epoch (a journal
 * that already exists keeps its own; the caller checks they agree).
 *
 * Per symbol, an update whose `n` is not above the last one recorded (a
 * duplicate, or a replay after a resubscribe) is skipped and counted, so the
 * journal's numbering only goes up; a jump of `n` (the server conflated or
 * dropped updates for this slow subscriber) is recorded and counted as a gap.
 *
 * Backpressure: while the journal's writes are behind (`saturated`) the
 * socket is paused, which leaves the server to deal with a slow subscriber.
 */
import WebSocket from 'ws';
import { JournalWriter, type SyncMode } from '../journal/journal-writer.js';
import { ToolError } from './cli.js';
import { closeSocket, describeClose } from './connect.js';
import { splitFrame } from './frames.js';
import { readUpdate } from './strip.js';

export interface RecordOptions {
  readonly out: string;
  readonly sync: SyncMode;
  /** Last `n` per symbol of the journal already in `out`, with its epoch. */
  readonly existing?: { readonly epoch: string; readonly lastN: ReadonlyMap<string, number> };
  /** The journal is open (the snapshot arrived): its epoch, and whether this run created it. */
  readonly onOpen?: (epoch: string, created: boolean) => void;
  /** A server `{op:"error"}` after the subscription was confirmed. */
  readonly onServerError?: (code: string, message: string) => void;
}

export interface RecordSummary {
  readonly updates: number;
  readonly symbols: number;
  /** Bytes of the updates recorded (MessagePack, as received). */
  readonly bytes: number;
  /** Updates skipped: `n` not above the last recorded for the symbol. */
  readonly skipped: number;
  /** Jumps of `n` by more than one (updates the server did not send). */
  readonly gaps: number;
  readonly epoch: string | null;
  readonly seconds: number;
}

/** A recording that ended in an error; the journal was closed all the same. */
export class RecordFailure extends ToolError {
  constructor(
    cause: ToolError,
    readonly summary: RecordSummary,
  ) {
    super(cause.code, cause.message, { cause });
  }
}

export class Recorder {
  updates = 0;
  bytes = 0;
  skipped = 0;
  gaps = 0;
  /** Resolves after stop() with the summary; rejects with a RecordFailure. */
  readonly done: Promise<RecordSummary>;
  readonly #ws: WebSocket;
  readonly #o: RecordOptions;
  readonly #lastN: Map<string, number>;
  readonly #seen = new Set<string>();
  readonly #started = performance.now();
  #epoch: string | undefined;
  #writer: JournalWriter | undefined;
  /** Frames that arrived before the journal was open. */
  #held: Buffer[] | undefined = [];
  #subscribed = false;
  #ending = false;
  /** The journal being opened, and what failed there after the end began. */
  #opening: Promise<void> | undefined;
  #openError: unknown;
  #resolve: (s: RecordSummary) => void = () => undefined;
  #reject: (e: RecordFailure) => void = () => undefined;

  constructor(ws: WebSocket, options: RecordOptions) {
    this.#ws = ws;
    this.#o = options;
    this.#lastN = new Map(options.existing?.lastN ?? []);
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    ws.on('message', this.#onMessage);
    ws.on('close', this.#onClose);
  }

  get symbols(): number {
    return this.#seen.size;
  }

  summary(): RecordSummary {
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      updates: this.updates,
      bytes: this.bytes,
      symbols: this.#seen.size,
      skipped: this.skipped,
      gaps: this.gaps,
      epoch: this.#epoch ?? null,
      seconds: Math.round(seconds * 1000) / 1000,
    };
  }

  /** Ends the recording: unsubscribes (closes), writes and syncs the journal, closes it. */
  stop(): void {
    void this.#end(undefined);
  }

  async #end(failure: ToolError | undefined): Promise<void> {
    if (this.#ending) return;
    this.#ending = true;
    // What arrives before the close handshake completes is still recorded.
    if (failure === undefined) await closeSocket(this.#ws);
    else this.#ws.terminate();
    await this.#opening;
    if (this.#openError !== undefined) failure ??= toolError(this.#openError);
    try {
      await this.#writer?.close();
    } catch (err) {
      failure ??= toolError(err);
    }
    if (failure === undefined) this.#resolve(this.summary());
    else this.#reject(new RecordFailure(failure, this.summary()));
  }

  #fail(err: unknown): void {
    void this.#end(toolError(err));
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    if (this.#ending && this.#writer === undefined) return;
    if (!isBinary) return; // The stream is MessagePack: a text frame is not ours.
    if (this.#held !== undefined && this.#writer === undefined) {
      const frame = splitFrame(data);
      if (frame.kind === 'control') this.#control(frame.message);
      else if (frame.kind === 'snapshot') {
        this.#held.push(data);
        if (this.#epoch === undefined) this.#opening = this.#open(frame.epoch);
      } else this.#held.push(data);
      return;
    }
    try {
      this.#take(data);
    } catch (err) {
      this.#fail(err);
    }
  };

  async #open(epoch: string): Promise<void> {
    this.#epoch = epoch;
    const existing = this.#o.existing;
    try {
      if (existing !== undefined && existing.epoch !== epoch) {
        throw new ToolError(
          'epoch_mismatch',
          `${this.#o.out} holds a journal of epoch ${existing.epoch}, the server numbers under ` +
            `epoch ${epoch}: record into another directory`,
        );
      }
      this.#writer = await JournalWriter.open(this.#o.out, {
        epoch,
        sync: this.#o.sync,
        maxBytes: 0,
        maxAgeMs: 0,
        onWritten: this.#onWritten,
        onError: (err) => this.#fail(err),
      });
      const held = this.#held ?? [];
      this.#held = undefined;
      for (const data of held) this.#take(data);
      this.#o.onOpen?.(this.#writer.epoch, this.#writer.created);
    } catch (err) {
      if (this.#ending) this.#openError = err;
      else this.#fail(err);
    }
  }

  /** Records the updates of one frame (held until the journal opened, or live). */
  #take(data: Buffer): void {
    const frame = splitFrame(data);
    if (frame.kind === 'control') return this.#control(frame.message);
    if (frame.kind === 'unknown') throw new ToolError('bad_frame', `the server sent ${frame.why}`);
    if (frame.kind === 'snapshot' && frame.epoch !== this.#epoch) {
      throw new ToolError(
        'epoch_mismatch',
        `a snapshot of epoch ${frame.epoch} after ${this.#epoch}`,
      );
    }
    const writer = this.#writer!;
    const b = frame.bounds;
    for (let i = 0; i < b.length; i += 2) {
      const start = b[i]!;
      const end = b[i + 1]!;
      const u = readUpdate(data, start, end);
      if (u.symbolStart < 0) throw new ToolError('bad_update', 'an update without a string "s"');
      const symbol = data.toString('utf8', u.symbolStart, u.symbolEnd);
      const last = this.#lastN.get(symbol) ?? 0;
      if (u.n <= last) {
        this.skipped++;
        continue;
      }
      if (last > 0 && u.n > last + 1) this.gaps++;
      writer.append(symbol, u.n, u.r, data.subarray(start, end));
      this.#lastN.set(symbol, u.n);
      this.#seen.add(symbol);
      this.updates++;
      this.bytes += end - start;
    }
    if (writer.saturated && !this.#ws.isPaused) this.#ws.pause();
  }

  #control(m: Readonly<Record<string, unknown>>): void {
    if (m.op === 'subscribed') this.#subscribed = true;
    else if (m.op === 'error') {
      const code = String(m.code);
      const message = String(m.message);
      if (!this.#subscribed) {
        this.#fail(
          new ToolError(
            'subscribe_refused',
            `the server refused the subscription: ${code}: ${message}`,
          ),
        );
      } else this.#o.onServerError?.(code, message);
    }
  }

  readonly #onWritten = (): void => {
    if (this.#ws.isPaused && this.#writer?.saturated === false) this.#ws.resume();
  };

  readonly #onClose = (code: number, reason: Buffer): void => {
    if (this.#ending) return;
    const why = describeClose(code, reason.toString('utf8'));
    void this.#end(new ToolError('server_closed', `the server closed the stream (${why})`));
  };
}

/** `err` as an error with a code (journal errors keep theirs). */
function toolError(err: unknown): ToolError {
  if (err instanceof ToolError) return err;
  if (err instanceof Error && typeof (err as Partial<ToolError>).code === 'string') {
    return new ToolError((err as ToolError).code, err.message, { cause: err });
  }
  return new ToolError('record_failed', err instanceof Error ? err.message : String(err));
}
