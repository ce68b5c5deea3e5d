/**
 * A scripted WebSocket for the SDK's unit tests: the test opens it, feeds it
 * messages, sets bufferedAmount and drops it; what the client sent is kept.
 */
import { Packr } from 'msgpackr';
import { waitFor } from '../../../test/helpers/clients.js';
import type { WebSocketLike, WebSocketNodeOptions } from '../src/connection.js';
import { unpackr } from '../src/codec.js';

const packr = new Packr({ useRecords: false });

type Handler<E> = ((event: E) => void) | null;

export class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  bufferedAmount = 0;
  binaryType = 'blob';
  onopen: Handler<unknown> = null;
  onmessage: Handler<{ readonly data: unknown }> = null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> = null;
  onerror: Handler<unknown> = null;
  readonly sent: (Uint8Array | string)[] = [];

  constructor(
    readonly url: string,
    _protocols?: string | string[],
    readonly options?: WebSocketNodeOptions,
  ) {
    FakeSocket.instances.push(this);
  }

  send(data: Uint8Array | string): void {
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    this.drop(code, reason);
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  drop(code = 1006, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  receive(value: unknown, json = false): void {
    this.onmessage?.({ data: json ? JSON.stringify(value) : new Uint8Array(packr.pack(value)) });
  }

  decodedSent(): unknown[] {
    return this.sent.map((d): unknown =>
      typeof d === 'string' ? JSON.parse(d) : unpackr.unpack(d),
    );
  }
}

/** Like the browser's WebSocket: no options parameter. */
export class BrowserLikeSocket extends FakeSocket {
  constructor(url: string) {
    super(url);
  }
}

/** The `count`-th socket created (1-based), once it exists. */
export async function nextSocket(count: number): Promise<FakeSocket> {
  await waitFor(() => FakeSocket.instances.length >= count, `socket #${count}`);
  return FakeSocket.instances[count - 1]!;
}
