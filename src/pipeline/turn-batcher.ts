/**
 * Everything published in one event-loop turn, one frame per topic.
 *
 * Why: a loopback send costs 5–6 µs here, and uWS writes each subscriber's
 * messages of a turn together only up to 32 of them; past that it sends them
 * one by one and a server fanning out single ticks falls from about 0.5 M to
 * 0.2 M deliveries/s and stays there (FIELD-NOTES; issue 14). Publishing the
 * updates of a turn as one array frame per topic keeps it at one message per
 * topic per subscriber per turn, however many feed frames the turn read: the
 * frames grow by themselves under load (adaptive batching), and at low rates
 * a turn holds one update, sent as before. The frames go out in the check
 * phase of the same loop iteration (setImmediate), before uWS writes the
 * turn's sends, so this adds no wait; measured in bench/results/PROFILE.md.
 *
 * The `*` topic gets one frame of every update in arrival order. A symbol's
 * topic gets one frame of that symbol's updates in order (a subscriber of
 * several named symbols gets one frame per symbol: per-symbol order holds,
 * the interleaving across symbols is not kept). A topic with one update in
 * the turn gets it as a map, as before.
 *
 * Anything that sends a snapshot, a replay or a ledger's latest values, or
 * moves a socket between topics, must `flush()` first: the updates held are
 * already in the last-value cache, so a subscriber added before the flush
 * would get them twice, and one that leaves would miss them.
 *
 * Hot path: `add*` copy into buffers that only grow; no allocation per
 * update. A symbol's updates are chained by index (Int32Array links per
 * entry id), so a flush walks each topic's updates without sorting.
 */
import type { Publisher } from './pipeline.js';
import type { SymbolEntry } from './symbol-table.js';
import { ALL_JSON_TOPIC, ALL_MSGPACK_TOPIC } from './topics.js';
import { writeArrayHeader } from './update-writer.js';

/** Largest array header (array32). */
const ARRAY_HEADER = 5;
/** A topic's frame is published at once when it would grow past this. */
export const MAX_TURN_FRAME = 256 * 1024;
/**
 * Everything held is published at once past this many bytes (named topics'
 * MessagePack plus JSON characters): a turn that reads many feed frames for
 * many symbols holds at most this much.
 */
export const MAX_TURN_HELD = 4 * 1024 * 1024;
const NONE = -1;

export class TurnBatcher {
  readonly #publisher: Publisher;
  /** Told when the held frames have been published (latency is recorded then). */
  readonly #onFlushed: () => void;

  // "*" in MessagePack: updates from ARRAY_HEADER on; the header goes in front at flush.
  #all = new Uint8Array(64 * 1024);
  #allLen = ARRAY_HEADER;
  #allCount = 0;
  /** The turn's first `*` update as handed in (published itself when it stays alone). */
  #allFirst: Uint8Array = EMPTY;
  /** Where the turn's first `*` update starts in #all (its staged copy). */
  #allFirstAt = 0;
  readonly #allJson: string[] = [];

  // Named topics, MessagePack: update k is #named[#start[k], #end[k]), of
  // entry #entry[k]; #next[k] links it to the entry's next update this turn.
  #named = new Uint8Array(64 * 1024);
  #namedLen = 0;
  #start = new Int32Array(1024);
  #end = new Int32Array(1024);
  #next = new Int32Array(1024);
  #count = 0;
  // Per entry id: first and last update of this turn, update count, bytes.
  #head = new Int32Array(1024).fill(NONE);
  #tail = new Int32Array(1024);
  #n = new Int32Array(1024);
  #bytes = new Int32Array(1024);
  /** Per entry id: its first update of the turn as handed in (see #flushNamed). */
  readonly #firstView: Uint8Array[] = [];
  /** Entries with MessagePack updates this turn, in first-update order. */
  readonly #dirty: SymbolEntry[] = [];
  #dirtyCount = 0;

  // Named topics, JSON (not the hot path: JSON is rendered per update anyway).
  readonly #json = new Map<SymbolEntry, string[]>();
  /** Characters of JSON held (both JSON topics). */
  #jsonChars = 0;

  #held = false;
  #scheduled = false;
  /** Bound once: no closure per turn. */
  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(publisher: Publisher, onFlushed: () => void = noop) {
    this.#publisher = publisher;
    this.#onFlushed = onFlushed;
  }

  /** True while updates are held for the end of the turn. */
  get holding(): boolean {
    return this.#held;
  }

  /**
   * Nothing to add, but the turn must end with a flush (the pipeline records
   * the latency of frames nobody listens to then).
   */
  hold(): void {
    this.#schedule();
  }

  /** One MessagePack update for the `*` topic. */
  addAll(update: Uint8Array): void {
    const len = update.length;
    this.#reserveAll(len);
    if (this.#allCount === 0) {
      this.#allFirst = update;
      this.#allFirstAt = this.#allLen;
    }
    this.#all.set(update, this.#allLen);
    this.#allLen += len;
    this.#allCount++;
    this.#schedule();
  }

  /**
   * `count` consecutive MessagePack updates for the `*` topic, `run` being
   * their bytes (one copy for a feed frame's updates).
   */
  addAllRun(run: Uint8Array, count: number): void {
    if (count === 1) {
      this.addAll(run);
      return;
    }
    this.#reserveAll(run.length);
    this.#all.set(run, this.#allLen);
    this.#allLen += run.length;
    this.#allCount += count;
    this.#schedule();
  }

  /** One JSON update for the JSON `*` topic. */
  addAllJson(json: string): void {
    this.#jsonHeld(json.length);
    this.#allJson.push(json);
    this.#schedule();
  }

  /** One MessagePack update for `entry`'s topic. */
  addNamed(entry: SymbolEntry, update: Uint8Array): void {
    const len = update.length;
    const id = entry.id;
    if (id >= this.#head.length) this.#growIds(id);
    if (
      (this.#head[id] !== NONE && this.#bytes[id]! + len > MAX_TURN_FRAME) ||
      this.#namedLen + this.#jsonChars + len > MAX_TURN_HELD
    )
      this.#flush(true);
    const k = this.#count;
    if (k === this.#start.length) this.#growUpdates();
    if (this.#namedLen + len > this.#named.length)
      this.#named = grow(this.#named, this.#namedLen, len);
    this.#named.set(update, this.#namedLen);
    this.#start[k] = this.#namedLen;
    this.#namedLen += len;
    this.#end[k] = this.#namedLen;
    this.#next[k] = NONE;
    if (this.#head[id] === NONE) {
      this.#head[id] = k;
      this.#firstView[id] = update;
      this.#n[id] = 0;
      this.#bytes[id] = 0;
      this.#dirty[this.#dirtyCount++] = entry;
    } else {
      this.#next[this.#tail[id]!] = k;
    }
    this.#tail[id] = k;
    this.#n[id]!++;
    this.#bytes[id]! += len;
    this.#count = k + 1;
    this.#schedule();
  }

  /** One JSON update for `entry`'s JSON topic. */
  addNamedJson(entry: SymbolEntry, json: string): void {
    this.#jsonHeld(json.length);
    const list = this.#json.get(entry);
    if (list === undefined) this.#json.set(entry, [json]);
    else list.push(json);
    this.#schedule();
  }

  /**
   * Publishes everything held, one frame per topic. Called between feed
   * frames (the turn's end, a snapshot, a topic move): every view handed in
   * is then still the latest stored update of its entry.
   */
  flush(): void {
    this.#flush(false);
  }

  /**
   * `midFrame`: a bound tripped inside an `add*` call, after the pipeline
   * stored the update being added: a view handed in earlier may then hold a
   * newer update of its entry (the slot was reused), so single updates go
   * out from their staged copies.
   */
  #flush(midFrame: boolean): void {
    if (!this.#held) return;
    this.#held = false;
    this.#jsonChars = 0;
    if (this.#dirtyCount > 0) this.#flushNamed(midFrame);
    if (this.#json.size > 0) {
      for (const [entry, list] of this.#json) {
        this.#publisher.publish(
          entry.jsonTopic,
          list.length === 1 ? list[0]! : `[${list.join(',')}]`,
          false,
          list.length,
        );
      }
      this.#json.clear();
    }
    if (this.#allCount > 0) this.#flushAll(midFrame);
    const allJson = this.#allJson;
    if (allJson.length > 0) {
      this.#publisher.publish(
        ALL_JSON_TOPIC,
        allJson.length === 1 ? allJson[0]! : `[${allJson.join(',')}]`,
        false,
        allJson.length,
      );
      allJson.length = 0;
    }
    this.#onFlushed();
  }

  #flushAll(midFrame: boolean): void {
    const count = this.#allCount;
    const buf = this.#all;
    if (count === 1) {
      // The view handed in, or the staged copy mid-frame (see #flushNamed).
      this.#publisher.publish(
        ALL_MSGPACK_TOPIC,
        midFrame ? buf.subarray(this.#allFirstAt, this.#allLen) : this.#allFirst,
        true,
        1,
      );
    } else {
      const start = ARRAY_HEADER - headerLength(count);
      writeArrayHeader(buf, start, count);
      // uWS copies the message, so the buffer is reused at once.
      this.#publisher.publish(ALL_MSGPACK_TOPIC, buf.subarray(start, this.#allLen), true, count);
    }
    this.#allLen = ARRAY_HEADER;
    this.#allCount = 0;
    this.#allFirst = EMPTY;
  }

  /**
   * Each dirty entry's updates, gathered behind the staged ones in the same
   * buffer (copyWithin: no view per update) and published as one frame.
   */
  #flushNamed(midFrame: boolean): void {
    const head = this.#head;
    const dirty = this.#dirty;
    const staged = this.#namedLen;
    let need = 0;
    for (let i = 0; i < this.#dirtyCount; i++) {
      const id = dirty[i]!.id;
      if (this.#n[id]! > 1) need += this.#bytes[id]! + ARRAY_HEADER;
    }
    if (staged + need > this.#named.length) this.#named = grow(this.#named, staged, need);
    const buf = this.#named;
    const start = this.#start;
    const end = this.#end;
    const next = this.#next;
    let w = staged;
    for (let i = 0; i < this.#dirtyCount; i++) {
      const entry = dirty[i]!;
      const id = entry.id;
      const n = this.#n[id]!;
      const first = head[id]!;
      head[id] = NONE;
      if (n === 1) {
        // Alone in the turn: between frames, the view handed in (the
        // history's, reused per slot) still holds it, since every later
        // store for the entry would have been added too; publishing it
        // allocates nothing, where a subarray of the staging buffer is a view
        // object per topic per turn (bench:pipeline, a frame per turn: 32.9
        // instead of 2.6 bytes per tick in batches). Mid-frame the entry may
        // just have been stored again: its staged copy then.
        this.#publisher.publish(
          entry.msgpackTopic,
          midFrame ? buf.subarray(start[first], end[first]) : this.#firstView[id]!,
          true,
          1,
        );
        this.#firstView[id] = EMPTY;
        continue;
      }
      this.#firstView[id] = EMPTY;
      const from = w;
      w = writeArrayHeader(buf, w, n);
      for (let k = first; k !== NONE; k = next[k]!) {
        buf.copyWithin(w, start[k]!, end[k]);
        w += end[k]! - start[k]!;
      }
      this.#publisher.publish(entry.msgpackTopic, buf.subarray(from, w), true, n);
    }
    for (let i = 0; i < this.#dirtyCount; i++) dirty[i] = PLACEHOLDER;
    this.#dirtyCount = 0;
    this.#count = 0;
    this.#namedLen = 0;
  }

  #jsonHeld(chars: number): void {
    if (this.#jsonChars + this.#namedLen + chars > MAX_TURN_HELD) this.#flush(true);
    this.#jsonChars += chars;
  }

  #reserveAll(len: number): void {
    if (this.#allLen + len > MAX_TURN_FRAME && this.#allCount > 0) this.#flushAll(true);
    if (this.#allLen + len > this.#all.length) this.#all = grow(this.#all, this.#allLen, len);
  }

  #growIds(id: number): void {
    const size = Math.max(this.#head.length * 2, id + 1);
    const head = new Int32Array(size).fill(NONE);
    head.set(this.#head);
    this.#head = head;
    this.#tail = widen(this.#tail, size);
    this.#n = widen(this.#n, size);
    this.#bytes = widen(this.#bytes, size);
  }

  #growUpdates(): void {
    const size = this.#start.length * 2;
    this.#start = widen(this.#start, size);
    this.#end = widen(this.#end, size);
    this.#next = widen(this.#next, size);
  }

  #schedule(): void {
    this.#held = true;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#onTurnEnd);
  }
}

function noop(): void {}

const EMPTY = new Uint8Array(0);

/** Array header bytes for `count` items (writeArrayHeader's choice). */
function headerLength(count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5;
}

/** A larger copy of `buf`'s first `used` bytes with room for `more`. */
function grow(buf: Uint8Array, used: number, more: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.max(buf.length * 2, used + more));
  out.set(buf.subarray(0, used));
  return out;
}

function widen(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(a);
  return out;
}

/** Fills released slots of the dirty list, so it keeps no entry alive. */
const PLACEHOLDER = undefined as unknown as SymbolEntry;
