/**
 * Test helpers for the pipeline: a recording Publisher stub (subscriber
 * counts settable per topic; every publish recorded with a copy of its bytes)
 * and MessagePack helpers configured as the protocol docs recommend.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Publisher } from '../../src/pipeline/pipeline.js';

export interface Published {
  readonly topic: string;
  /** A copy of the message taken at publish time (strings as they are). */
  readonly message: Uint8Array | string;
  /** The object the pipeline handed over (may be reused by later frames). */
  readonly original: Uint8Array | string;
  readonly isBinary: boolean;
}

export class StubPublisher implements Publisher {
  readonly published: Published[] = [];
  readonly #counts = new Map<string, number>();

  /** Sets the subscriber count of each topic (default 1). */
  subscribe(topics: readonly string[], count = 1): this {
    for (const t of topics) this.#counts.set(t, count);
    return this;
  }

  publish(topic: string, message: Uint8Array | string, isBinary: boolean): void {
    const copy = typeof message === 'string' ? message : Uint8Array.from(message);
    this.published.push({ topic, message: copy, original: message, isBinary });
  }

  subscribers(topic: string): number {
    return this.#counts.get(topic) ?? 0;
  }

  /** Everything published on `topic`, in order. */
  on(topic: string): Published[] {
    return this.published.filter((p) => p.topic === topic);
  }

  /** Binary messages published on `topic`, decoded. */
  decoded(topic: string): unknown[] {
    return this.on(topic).map((p) => {
      if (typeof p.message === 'string') throw new Error(`text message on ${topic}`);
      return decode(p.message);
    });
  }

  /**
   * Every update published on `topic`, in order: a frame holding an array
   * counts as its items (a binary frame is decoded, a text frame parsed).
   */
  updates(topic: string): unknown[] {
    return this.on(topic).flatMap((p) => {
      const v: unknown = typeof p.message === 'string' ? JSON.parse(p.message) : decode(p.message);
      return Array.isArray(v) ? (v as unknown[]) : [v];
    });
  }

  clear(): void {
    this.published.length = 0;
  }
}

export const packr = new Packr({ useRecords: false });
export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/** Packs `value` into a fresh, standalone Uint8Array. */
export function pack(value: unknown): Uint8Array {
  return Uint8Array.from(packr.pack(value));
}

export function decode(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

export type Tick = Record<string, unknown>;
export type Update = Tick & { s: string; n: number; r: number };
