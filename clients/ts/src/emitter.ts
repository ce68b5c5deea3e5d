/**
 * A tiny typed event emitter (no Node `events`, so it runs in browsers).
 * `Events` maps each event name to its payload type; `void` events take no payload.
 */
export type Listener<T> = [T] extends [void] ? () => void : (payload: T) => void;

export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const wrapped = ((payload: Events[K]) => {
      off();
      listener(payload);
    }) as Listener<Events[K]>;
    const off = this.on(event, wrapped);
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof Events>(
    event: K,
    ...payload: [Events[K]] extends [void] ? [] : [Events[K]]
  ): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      (listener as (...args: unknown[]) => void)(...payload);
    }
  }
}
