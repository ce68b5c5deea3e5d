/**
 * A tiny raw-TCP WebSocket client (node:net, no ws library) for conformance
 * and fuzz tests: it performs the HTTP/1.1 upgrade itself, writes arbitrary
 * frames (any FIN/RSV bits and opcode, masked or not, a declared length
 * independent of the payload, any length encoding) or raw bytes, parses the
 * server's frames (close frames: code + reason) and reports how the TCP
 * connection ended (FIN from the server, reset, or destroyed by us).
 *
 * It never answers pings by itself: tests decide what a client does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Socket, createConnection } from 'node:net';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** What the client writes: everything is overridable. */
export interface FrameSpec {
  readonly opcode: number;
  /** Default true. */
  readonly fin?: boolean;
  /** RSV bits as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3. Default 0. */
  readonly rsv?: number;
  readonly payload?: Uint8Array | string;
  /** true (default): a random masking key; a Uint8Array: that 4-byte key; false: unmasked. */
  readonly mask?: boolean | Uint8Array;
  /** The payload length written in the header (default: the payload's real length). */
  readonly declaredLength?: number | bigint;
  /** Forces the length encoding: 7-bit, 16-bit (126) or 64-bit (127). Default: the smallest. */
  readonly lengthForm?: 7 | 16 | 64;
}

/** A frame parsed from the server. */
export interface RawFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
}

export interface CloseFrameInfo {
  /** undefined for an empty close payload. */
  readonly code: number | undefined;
  readonly reason: string;
}

/** How the TCP connection ended. */
export interface EndInfo {
  /** 'fin': the server closed (EOF); 'reset': ECONNRESET/EPIPE; 'destroyed': we closed it. */
  readonly how: 'fin' | 'reset' | 'destroyed';
  /** The first close frame the server sent, if any. */
  readonly closeFrame: CloseFrameInfo | undefined;
  /** Milliseconds from connect to the end. */
  readonly afterMs: number;
}

export interface RawConnectOptions {
  readonly host?: string;
  /** Extra request headers (e.g. `{ Authorization: 'Bearer …' }`). */
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** The upgrade was answered with something other than 101. */
export class RawUpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly head: string,
  ) {
    super(`upgrade refused: HTTP ${status}`);
  }
}

/** Encodes one frame as specified (header + optionally masked payload). */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string'
      ? Buffer.from(spec.payload, 'utf8')
      : Buffer.from(spec.payload ?? new Uint8Array(0));
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const form = spec.lengthForm ?? (declared < 126n ? 7 : declared < 65536n ? 16 : 64);
  const maskKey =
    spec.mask === false
      ? undefined
      : spec.mask instanceof Uint8Array
        ? Buffer.from(spec.mask)
        : randomBytes(4);
  const head: number[] = [
    ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f),
  ];
  const maskBit = maskKey === undefined ? 0 : 0x80;
  if (form === 7) {
    head.push(maskBit | Number(declared & 0x7fn));
  } else if (form === 16) {
    head.push(maskBit | 126, Number((declared >> 8n) & 0xffn), Number(declared & 0xffn));
  } else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((declared >> shift) & 0xffn));
  }
  const body = Buffer.from(payload);
  if (maskKey !== undefined) {
    for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ maskKey[i & 3]!;
  }
  return Buffer.concat([Buffer.from(head), maskKey ?? Buffer.alloc(0), body]);
}

/** A close payload: 2-byte code + reason (UTF-8 string or raw bytes). */
export function closePayload(code: number, reason: string | Uint8Array = ''): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason]);
}

export function parseClose(payload: Buffer): CloseFrameInfo {
  if (payload.length < 2) return { code: undefined, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

interface FrameWaiter {
  readonly predicate: (f: RawFrame) => boolean;
  readonly resolve: (f: RawFrame) => void;
}

export class RawWebSocket {
  readonly socket: Socket;
  /** The server's 101 response head (status line and headers). */
  readonly responseHead: string;
  /** Every frame received, in order. */
  readonly frames: RawFrame[] = [];
  /** Resolves when the TCP connection is gone (never rejects). */
  readonly ended: Promise<EndInfo>;
  endInfo: EndInfo | undefined;
  #buffer: Buffer;
  #waiter: FrameWaiter | undefined;
  #taken = 0;
  #reset = false;
  #destroyedByUs = false;
  readonly #t0: number;

  private constructor(socket: Socket, head: string, rest: Buffer, t0: number) {
    this.socket = socket;
    this.responseHead = head;
    this.#buffer = rest;
    this.#t0 = t0;
    this.ended = new Promise((resolve) => {
      socket.on('close', () => {
        const close = this.frames.find((f) => f.opcode === Opcode.Close);
        this.endInfo = {
          how: this.#destroyedByUs ? 'destroyed' : this.#reset ? 'reset' : 'fin',
          closeFrame: close === undefined ? undefined : parseClose(close.payload),
          afterMs: Date.now() - this.#t0,
        };
        this.#waiter?.resolve(END_SENTINEL);
        resolve(this.endInfo);
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.#reset = true;
    });
    // On a FIN from the server, close our side too.
    socket.on('end', () => socket.end());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#parse();
  }

  /** Connects and upgrades `path`; rejects with RawUpgradeRefused on a non-101 answer. */
  static connect(port: number, path: string, opts: RawConnectOptions = {}): Promise<RawWebSocket> {
    const host = opts.host ?? '127.0.0.1';
    const key = randomBytes(16).toString('base64');
    const expectedAccept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host, port });
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`raw upgrade of ${path}: no answer within ${opts.timeoutMs ?? 5000} ms`));
      }, opts.timeoutMs ?? 5000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        const text = head.subarray(0, end).toString('latin1');
        const lines = text.split('\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
        const accept = lines
          .find((l) => l.toLowerCase().startsWith('sec-websocket-accept:'))
          ?.slice('sec-websocket-accept:'.length)
          .trim();
        if (status !== 101) {
          socket.destroy();
          reject(new RawUpgradeRefused(status, text));
          return;
        }
        if (accept !== expectedAccept) {
          fail(new Error(`bad Sec-WebSocket-Accept: ${String(accept)}`));
          return;
        }
        resolve(new RawWebSocket(socket, text, head.subarray(end + 4), t0));
      };
      socket.on('data', onData);
      socket.once('error', fail);
      const extra = Object.entries(opts.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          `${extra}\r\n`,
      );
    });
  }

  get isEnded(): boolean {
    return this.endInfo !== undefined;
  }

  /** Writes raw bytes (ignored once the socket is gone). */
  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Encodes and writes one frame. */
  send(spec: FrameSpec): void {
    this.write(encodeFrame(spec));
  }

  /** Writes several frames in one TCP write (e.g. the pieces of a fragmented message). */
  sendAll(specs: readonly FrameSpec[]): void {
    this.write(Buffer.concat(specs.map(encodeFrame)));
  }

  sendBinary(payload: Uint8Array): void {
    this.send({ opcode: Opcode.Binary, payload });
  }

  sendText(payload: string | Uint8Array): void {
    this.send({ opcode: Opcode.Text, payload });
  }

  /** A close frame with `code` (omit for an empty payload) and a reason. */
  sendClose(code?: number, reason: string | Uint8Array = ''): void {
    this.send({
      opcode: Opcode.Close,
      payload: code === undefined ? new Uint8Array(0) : closePayload(code, reason),
    });
  }

  /** The next frame not yet taken that matches (any when omitted); rejects on timeout or end. */
  nextFrame(predicate: (f: RawFrame) => boolean = () => true, timeoutMs = 5000): Promise<RawFrame> {
    for (let i = this.#taken; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (predicate(f)) {
        this.#taken = i + 1;
        return Promise.resolve(f);
      }
    }
    this.#taken = this.frames.length;
    if (this.isEnded) return Promise.reject(new Error('connection already ended'));
    if (this.#waiter !== undefined) return Promise.reject(new Error('nextFrame already waiting'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        predicate,
        resolve: (f) => {
          clearTimeout(timer);
          this.#waiter = undefined;
          if (f === END_SENTINEL) reject(new Error('connection ended before a matching frame'));
          else resolve(f);
        },
      };
    });
  }

  /** Waits for the TCP connection to end; rejects after `timeoutMs`. */
  waitEnd(timeoutMs = 5000): Promise<EndInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`connection still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
      void this.ended.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** Stops reading from the socket (the kernel buffers fill, the server sees backpressure). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Closes our side abruptly. */
  destroy(): void {
    this.#destroyedByUs = !this.isEnded;
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#parse();
  }

  #parse(): void {
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      const b0 = b[0]!;
      const b1 = b[1]!;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let pos = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        pos = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
          // Not something a server sends; stop parsing rather than throw in a data handler.
          this.socket.destroy();
          return;
        }
        len = Number(big);
        pos = 10;
      }
      const keyAt = pos;
      if (masked) pos += 4;
      if (b.length < pos + len) return;
      const payload = Buffer.from(b.subarray(pos, pos + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ b[keyAt + (i & 3)]!;
      this.#buffer = b.subarray(pos + len);
      const frame: RawFrame = {
        fin: (b0 & 0x80) !== 0,
        rsv: (b0 >> 4) & 7,
        opcode: b0 & 0x0f,
        masked,
        payload,
      };
      this.frames.push(frame);
      const w = this.#waiter;
      if (w !== undefined && w.predicate(frame)) {
        this.#taken = this.frames.length;
        w.resolve(frame);
      }
    }
  }
}

const END_SENTINEL: RawFrame = Object.freeze({
  fin: true,
  rsv: 0,
  opcode: -1,
  masked: false,
  payload: Buffer.alloc(0),
});
