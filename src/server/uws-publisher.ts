/**
 * The pipeline's Publisher over a uWS app: topic publish and the native
 * subscriber count (cheap; FIELD-NOTES). Deliveries are written by uWS at the
 * end of the event-loop iteration, which batches many frames per syscall.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Publisher } from '../pipeline/pipeline.js';

export class UwsPublisher implements Publisher {
  readonly #app: TemplatedApp;

  constructor(app: TemplatedApp) {
    this.#app = app;
  }

  publish(topic: string, message: Uint8Array | string, isBinary: boolean): void {
    this.#app.publish(topic, message, isBinary);
  }

  subscribers(topic: string): number {
    return this.#app.numSubscribers(topic);
  }
}
