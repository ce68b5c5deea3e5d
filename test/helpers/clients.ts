/**
 * WebSocket test clients for the integration tests: every received message
 * is queued (decoded: MessagePack for binary frames, JSON for text frames,
 * remembering which), and tests await them with `next()`.
 *
 * Nothing here measures time: timeouts only bound how long a test waits for
 * something that should happen, and `expectNone(ms)` is an absence check.
 */
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';

// Decoded wire messages are dynamic by nature; tests assert their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = any;

/** A decoded update: the feed's tick plus `n` and `r`. */
export interface Update {
  readonly s: string;
  readonly p: number;
  readonly n: number;
  readonly r: number;
  readonly [key: string]: unknown;
}

export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});
export const packr = new Packr({ useRecords: false });

/** MessagePack-encodes a value the way a well-behaved client would. */
export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

export function unpack(bytes: Uint8Array): Msg {
  return unpackr.unpack(bytes);
}

export interface Received {
  /** The decoded value (MessagePack for binary frames, JSON for text frames). */
  readonly data: Msg;
  /** True for a binary frame, false for a text frame. */
  readonly binary: boolean;
  /** The frame's bytes as received. */
  readonly raw: Buffer;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface ConnectOptions {
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. */
  readonly headers?: Record<string, string>;
  /** How long to wait for the upgrade. */
  readonly timeoutMs?: number;
}

/** Thrown by connect() when the server answers the upgrade with an HTTP status. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
  }
}

export const DEFAULT_WAIT_MS = 5000;

interface Waiter {
  readonly predicate: (m: Received) => boolean;
  readonly resolve: (m: Received) => void;
}

export class TestClient {
  readonly ws: WebSocket;
  /** Received and not yet taken by next(). */
  readonly queue: Received[] = [];
  /** Every message ever received, in order (next() does not remove from it). */
  readonly history: Received[] = [];
  /** Resolves when the connection closes. */
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;
  #waiter: Waiter | undefined;
  readonly #decodeErrors: unknown[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw: Buffer, isBinary: boolean) => this.#onMessage(raw, isBinary));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
      });
    });
    // Errors (e.g. a reset after the server closed) end up as a close.
    ws.on('error', () => undefined);
  }

  #onMessage(raw: Buffer, binary: boolean): void {
    let data: Msg;
    try {
      data = binary ? unpack(raw) : JSON.parse(raw.toString('utf8'));
    } catch (err) {
      this.#decodeErrors.push(err);
      data = { undecodable: true };
    }
    const m: Received = { data, binary, raw };
    this.history.push(m);
    const w = this.#waiter;
    if (w !== undefined && w.predicate(m)) {
      this.#waiter = undefined;
      this.#dropUpTo(m);
      w.resolve(m);
      return;
    }
    this.queue.push(m);
  }

  /** Drops queued messages up to and including `m` (m may not be queued). */
  #dropUpTo(m: Received): void {
    const i = this.queue.indexOf(m);
    this.queue.splice(0, i >= 0 ? i + 1 : this.queue.length);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * The next message matching `predicate` (any message when omitted).
   * Messages before it that do not match are discarded.
   */
  next(
    predicate: (m: Received) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Received> {
    if (this.#decodeErrors.length > 0) {
      return Promise.reject(new Error(`undecodable frame: ${String(this.#decodeErrors[0])}`));
    }
    const found = this.queue.find(predicate);
    if (found !== undefined) {
      this.#dropUpTo(found);
      return Promise.resolve(found);
    }
    if (this.#waiter !== undefined) return Promise.reject(new Error('next() is already waiting'));
    this.queue.length = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms (received ${this.history.length} in all; ` +
              `last: ${JSON.stringify(this.history.at(-1)?.data)?.slice(0, 300)}; ` +
              `close: ${JSON.stringify(this.closeInfo)})`,
          ),
        );
      }, timeoutMs);
      this.#waiter = {
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
    });
  }

  /** The decoded value of the next message (matching `predicate`). */
  async nextData(
    predicate: (data: Msg) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Msg> {
    return (await this.next((m) => predicate(m.data), timeoutMs)).data;
  }

  /** The next control message with this `op` (skipping anything before it). */
  nextOp(op: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Msg> {
    return this.nextData((d) => isRecord(d) && d.op === op, timeoutMs);
  }

  /**
   * Collects `count` updates (frames may hold one update or an array of
   * them), in order. Fails if a control message arrives in between.
   */
  async updates(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Update[]> {
    const out = await this.updatesAtLeast(count, timeoutMs);
    if (out.length > count) {
      throw new Error(`expected ${count} updates, got at least ${out.length}`);
    }
    return out;
  }

  /** The next single update. */
  async update(timeoutMs = DEFAULT_WAIT_MS): Promise<Update> {
    return (await this.updates(1, timeoutMs))[0]!;
  }

  /** Like updates(), but the last frame may take the total past `count`. */
  async updatesAtLeast(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Update[]> {
    const out: Update[] = [];
    while (out.length < count) {
      const m = await this.next(undefined, timeoutMs);
      const ups = updatesOf(m.data);
      if (ups === undefined) {
        throw new Error(`expected updates, got ${JSON.stringify(m.data).slice(0, 300)}`);
      }
      out.push(...ups);
    }
    return out;
  }

  /** Resolves if no message (matching `predicate`) arrives within `ms`. */
  async expectNone(ms = 300, predicate: (m: Received) => boolean = () => true): Promise<void> {
    const already = this.queue.find(predicate);
    if (already !== undefined) {
      throw new Error(`unexpected message: ${JSON.stringify(already.data).slice(0, 300)}`);
    }
    const before = this.history.length;
    await sleep(ms);
    const late = this.history.slice(before).find(predicate);
    if (late !== undefined) {
      throw new Error(`unexpected message: ${JSON.stringify(late.data).slice(0, 300)}`);
    }
  }

  /** Sends a value as a binary MessagePack frame. */
  sendPack(value: unknown): void {
    this.ws.send(pack(value), { binary: true });
  }

  /** Sends raw bytes as a binary frame. */
  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Sends a text frame (a string as is, anything else JSON-encoded). */
  sendText(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value), { binary: false });
  }

  /** Waits for the close (with its code and reason). */
  waitClose(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    return withTimeout(this.closed, timeoutMs, 'close');
  }

  /** Closes from the client side and waits for the handshake to finish. */
  async close(code = 1000, reason = ''): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
    try {
      return await withTimeout(this.closed, 2000, 'close');
    } catch {
      this.ws.terminate();
      return this.closed;
    }
  }
}

/** Opens a WebSocket; rejects with UpgradeRefused if the server answers with HTTP. */
export function connect(url: string, opts: ConnectOptions = {}): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: opts.headers ?? {}, perMessageDeflate: false });
    const client = new TestClient(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(
        new Error(`connect ${url}: no upgrade within ${opts.timeoutMs ?? DEFAULT_WAIT_MS} ms`),
      );
    }, opts.timeoutMs ?? DEFAULT_WAIT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(client);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        ws.terminate();
        reject(new UpgradeRefused(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', () => {
        ws.terminate();
        reject(new UpgradeRefused(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface Refusal {
  readonly status: number;
  readonly body: string;
}

/** Connects expecting the upgrade to be refused; returns the HTTP status and body. */
export async function expectRefused(url: string, opts: ConnectOptions = {}): Promise<Refusal> {
  let client: TestClient;
  try {
    client = await connect(url, opts);
  } catch (err) {
    if (err instanceof UpgradeRefused) return { status: err.status, body: err.body };
    throw err;
  }
  await client.close();
  throw new Error(`expected the upgrade to ${url} to be refused, but a WebSocket opened`);
}

/** The updates in a data frame (a map or an array of maps), or undefined for a control message. */
export function updatesOf(data: unknown): Update[] | undefined {
  if (Array.isArray(data)) return data as Update[];
  if (isRecord(data) && typeof data.op !== 'string') return [data as unknown as Update];
  return undefined;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Polls `cond` until it holds; fails after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
