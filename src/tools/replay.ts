/**
 * Replays a journal's updates into a server's /feed (opened with `?ack=1`):
 * each update stripped back to the tick the feed sent (strip.ts), in journal
 * order, which keeps every symbol's order.
 *
 * Pace: at a finite `speed`, a tick is due `T / speed` after the start, T
 * being the recorded time since the first record with each gap between
 * records clamped to [0, maxGapUs]; ticks due in the same millisecond
 * go in one frame (at most MAX_BATCH ticks or FRAME_BYTES). At `speed`
 * Infinity (`--speed max`) frames of up to `batch` ticks go as fast as the
 * server acknowledges them. Either way at most `window` frames are
 * unacknowledged at a time, so a slow server is never flooded.
 *
 * The journal is read with its reader's reused record view: each update is
 * stripped into the frame being built before the next record is read.
 */
import { Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import type { JournalReader, ReadOptions } from '../journal/journal-reader.js';
import { MAX_BATCH } from '../protocol/codes.js';
import { ToolError } from './cli.js';
import { closeSocket, describeClose } from './connect.js';
import { type UpdateLayout, readUpdate, stripInto, strippedBytes } from './strip.js';

/** Bytes a frame is kept under when more than one tick could go in it. */
export const FRAME_BYTES = 256 * 1024;
/** Room for the largest array header in front of the ticks. */
const HEAD = 5;

export interface ReplayOptions {
  readonly read: ReadOptions;
  /** Factor of the recorded pace; Infinity: as fast as acks allow. */
  readonly speed: number;
  /** Most ticks per frame at `speed` Infinity. */
  readonly batch: number;
  /** Longest recorded gap kept, µs (longer ones are shortened to it); Infinity: all kept. */
  readonly maxGapUs?: number;
  /** Most frames unacknowledged at a time. */
  readonly window: number;
  /** Called about once per second while running. */
  readonly onProgress?: (p: ReplaySummary & { readonly positionUs: number }) => void;
  /** An `{op:"error"}` from the server (bad_tick, rate_limited, …): the frame's ack still counts it. */
  readonly onServerError?: (code: string, message: string) => void;
}

export interface ReplaySummary {
  readonly ticks: number;
  readonly frames: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly seconds: number;
  /** Ticks per second over the run. */
  readonly rate: number;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export class Replay {
  ticks = 0;
  frames = 0;
  accepted = 0;
  rejected = 0;
  /** `r` of the last tick sent (µs). */
  positionUs = 0;
  readonly #ws: WebSocket;
  readonly #reader: JournalReader;
  readonly #o: ReplayOptions;
  #inFlight = 0;
  #failure: ToolError | undefined;
  #stopping = false;
  #closing = false;
  #wake: (() => void) | undefined;
  #buf = new Uint8Array(64 * 1024);
  #w = HEAD;
  #count = 0;
  #due = 0;
  #started = performance.now();

  constructor(ws: WebSocket, reader: JournalReader, options: ReplayOptions) {
    this.#ws = ws;
    this.#reader = reader;
    this.#o = options;
    ws.on('message', this.#onMessage);
    ws.on('close', this.#onClose);
  }

  /** Stops reading (SIGINT): what was sent is still awaited, then run() resolves. */
  stop(): void {
    this.#stopping = true;
    this.#wakeUp();
  }

  /** Replays; resolves with the summary once every frame sent was acknowledged. */
  async run(): Promise<ReplaySummary> {
    const { speed, batch } = this.#o;
    const paced = Number.isFinite(speed);
    const limit = paced ? MAX_BATCH : batch;
    this.#started = performance.now();
    const progress = setInterval(() => this.#o.onProgress?.(this.#summary()), 1000);
    let prevR = -1;
    let timeline = 0;
    const maxGapUs = this.#o.maxGapUs ?? Infinity;
    let bucket = 0;
    try {
      for (const rec of this.#reader.records(this.#o.read)) {
        if (this.#stopping) break;
        const update = rec.update;
        let layout: UpdateLayout;
        try {
          layout = readUpdate(update);
        } catch (err) {
          throw new ToolError(
            'bad_update',
            `journal record ${rec.index}: ${(err as Error).message}`,
          );
        }
        const size = strippedBytes(layout);
        // The recorded timeline, with gaps clamped to [0, maxGapUs]: an update
        // older than the one before it (a recording's snapshot) is due at
        // once, and a long silence (a night) is shortened.
        if (prevR < 0) prevR = rec.r;
        timeline += Math.min(maxGapUs, Math.max(0, rec.r - prevR));
        prevR = Math.max(prevR, rec.r);
        const due = paced ? this.#started + timeline / 1000 / speed : 0;
        const at = Math.floor(due);
        if (
          this.#count > 0 &&
          (at !== bucket || this.#count >= limit || this.#w + size > FRAME_BYTES + HEAD)
        ) {
          await this.#send();
          if (this.#stopping) break;
        }
        if (this.#count === 0) {
          bucket = at;
          this.#due = due;
        }
        if (this.#w + size > this.#buf.length) this.#grow(this.#w + size);
        this.#w = stripInto(update, layout, this.#buf, this.#w);
        this.#count++;
        this.positionUs = rec.r;
      }
      if (this.#count > 0 && !this.#stopping) await this.#send();
      while (this.#inFlight > 0) await this.#wait();
      const { positionUs: _position, ...summary } = this.#summary();
      this.#closing = true;
      await closeSocket(this.#ws);
      return summary;
    } finally {
      clearInterval(progress);
      this.#closing = true;
      if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.terminate();
    }
  }

  #summary(): ReplaySummary & { positionUs: number } {
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      ticks: this.ticks,
      frames: this.frames,
      accepted: this.accepted,
      rejected: this.rejected,
      seconds: Math.round(seconds * 1000) / 1000,
      rate: seconds > 0 ? Math.round(this.ticks / seconds) : 0,
      positionUs: this.positionUs,
    };
  }

  /** Sends the frame being built, once the window has room and it is due. */
  async #send(): Promise<void> {
    this.#check();
    while (this.#inFlight >= this.#o.window && !this.#stopping) await this.#wait();
    for (let left = this.#due - performance.now(); left >= 1 && !this.#stopping;) {
      await this.#wait(left);
      left = this.#due - performance.now();
    }
    if (this.#stopping) return;
    const buf = this.#buf;
    let from = HEAD;
    if (this.#count > 1) {
      const n = this.#count;
      if (n < 16) buf[(from = HEAD - 1)] = 0x90 | n;
      else {
        from = HEAD - 3;
        buf[from] = 0xdc;
        buf[from + 1] = n >>> 8;
        buf[from + 2] = n & 0xff;
      }
    }
    // A copy: the build buffer is reused for the next frame.
    this.#ws.send(Buffer.from(buf.subarray(from, this.#w)), { binary: true });
    this.#inFlight++;
    this.frames++;
    this.ticks += this.#count;
    this.#count = 0;
    this.#w = HEAD;
  }

  #grow(bytes: number): void {
    const next = new Uint8Array(Math.max(bytes, this.#buf.length * 2));
    next.set(this.#buf.subarray(0, this.#w));
    this.#buf = next;
  }

  /** Waits for an ack, a close, stop() or `ms`; throws what failed the replay. */
  async #wait(ms?: number): Promise<void> {
    this.#check();
    await new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, Math.min(ms, 3_600_000));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
    this.#check();
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  #wakeUp(): void {
    this.#wake?.();
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    let msg: unknown;
    try {
      msg = isBinary ? unpackr.unpack(data) : JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as Record<string, unknown>;
    if (m.op === 'ack') {
      this.#inFlight--;
      this.accepted += typeof m.accepted === 'number' ? m.accepted : 0;
      this.rejected += typeof m.rejected === 'number' ? m.rejected : 0;
      this.#wakeUp();
    } else if (m.op === 'error') {
      this.#o.onServerError?.(String(m.code), String(m.message));
    }
  };

  readonly #onClose = (code: number, reason: Buffer): void => {
    if (this.#closing) return;
    const why = describeClose(code, reason.toString('utf8'));
    this.#failure = new ToolError('server_closed', `the server closed the feed (${why})`);
    this.#wakeUp();
  };
}
