/**
 * Shared pieces of the loadgen tests: a typed view of bench/loadgen/index.mjs,
 * whether a C compiler is there (the tests skip, with a notice, when not),
 * server-side WebSocket frames and MessagePack encoded at chosen widths.
 */
import { type AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
// @ts-expect-error -- plain ESM module of the benchmark, no type declarations
import * as loadgen from '../../bench/loadgen/index.mjs';

interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
}
type Exec = (
  args: (string | number)[],
  opts?: { input?: Buffer | string; timeoutMs?: number },
) => Promise<ExecResult>;

const lg = loadgen as {
  execLoadgen: Exec;
  runLoadgen: (
    args: (string | number)[],
    opts?: { timeoutMs?: number },
  ) => Promise<Record<string, unknown>>;
  ensureLoadgen: () => string;
  hasCompiler: () => boolean;
};

export const execLoadgen = lg.execLoadgen;
export const runLoadgen = lg.runLoadgen;

/** True when the generator can be built here; prints a notice once when not. */
export function canBuild(): boolean {
  if (lg.hasCompiler()) {
    lg.ensureLoadgen();
    return true;
  }
  console.warn('NOTICE: loadgen tests skipped: no C compiler (`cc` or $CC) on this machine');
  return false;
}

/** The selftest's output: one record per line, the summary last. */
export async function selftest(
  args: string[],
  input: Buffer | string,
): Promise<{ lines: Record<string, unknown>[]; summary: Record<string, unknown> }> {
  const r = await execLoadgen(['selftest', ...args], { input, timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`selftest exited ${r.code}: ${r.stderr}`);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines: lines.slice(0, -1), summary: lines[lines.length - 1]! };
}

export const HANDSHAKE = Buffer.from(
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
);

/** A server frame (unmasked). `width` forces the length field: 7, 16 or 64 bits. */
export function wsFrame(
  opcode: number,
  payload: Buffer,
  width: 7 | 16 | 64 = payload.length < 126 ? 7 : payload.length < 65536 ? 16 : 64,
  fin = true,
): Buffer {
  let head: Buffer;
  if (width === 7) head = Buffer.from([0, payload.length]);
  else if (width === 16) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(payload.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([head, payload]);
}

/** MessagePack pieces at chosen widths (msgpackr always picks the smallest). */
export const mp = {
  str(s: string, width: 'fix' | 8 | 16 | 32 = 'fix'): Buffer {
    const b = Buffer.from(s);
    if (width === 'fix') return Buffer.concat([Buffer.from([0xa0 | b.length]), b]);
    if (width === 8) return Buffer.concat([Buffer.from([0xd9, b.length]), b]);
    const h = Buffer.alloc(width === 16 ? 3 : 5);
    h[0] = width === 16 ? 0xda : 0xdb;
    if (width === 16) h.writeUInt16BE(b.length, 1);
    else h.writeUInt32BE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  /** An integer or float in the given MessagePack type byte's encoding. */
  num(type: number | 'fixint', v: number | bigint): Buffer {
    if (type === 'fixint') return Buffer.from([Number(v) & 0xff]);
    const sizes: Record<number, number> = {
      0xcc: 1,
      0xcd: 2,
      0xce: 4,
      0xcf: 8,
      0xd0: 1,
      0xd1: 2,
      0xd2: 4,
      0xd3: 8,
      0xca: 4,
      0xcb: 8,
    };
    const b = Buffer.alloc(1 + sizes[type]!);
    b[0] = type;
    const n = Number(v);
    switch (type) {
      case 0xcc:
        b.writeUInt8(n, 1);
        break;
      case 0xcd:
        b.writeUInt16BE(n, 1);
        break;
      case 0xce:
        b.writeUInt32BE(n, 1);
        break;
      case 0xcf:
        b.writeBigUInt64BE(BigInt(v), 1);
        break;
      case 0xd0:
        b.writeInt8(n, 1);
        break;
      case 0xd1:
        b.writeInt16BE(n, 1);
        break;
      case 0xd2:
        b.writeInt32BE(n, 1);
        break;
      case 0xd3:
        b.writeBigInt64BE(BigInt(v), 1);
        break;
      case 0xca:
        b.writeFloatBE(n, 1);
        break;
      default:
        b.writeDoubleBE(n, 1);
    }
    return b;
  },
  map(entries: Buffer[][], width: 'fix' | 16 | 32 = 'fix'): Buffer {
    return Buffer.concat([header(entries.length, 0x80, 0xde, 0xdf, width), ...entries.flat()]);
  },
  array(items: Buffer[], width: 'fix' | 16 | 32 = 'fix'): Buffer {
    return Buffer.concat([header(items.length, 0x90, 0xdc, 0xdd, width), ...items]);
  },
};

function header(n: number, fix: number, h16: number, h32: number, width: 'fix' | 16 | 32): Buffer {
  if (width === 'fix') return Buffer.from([fix | n]);
  const h = Buffer.alloc(width === 16 ? 3 : 5);
  h[0] = width === 16 ? h16 : h32;
  if (width === 16) h.writeUInt16BE(n, 1);
  else h.writeUInt32BE(n, 1);
  return h;
}

/** Unwraps one masked client frame: opcode and payload. */
export function unframe(hex: string): { opcode: number; payload: Buffer } {
  const f = Buffer.from(hex, 'hex');
  expect(f[0]! & 0x80).toBe(0x80); // FIN
  expect(f[1]! & 0x80).toBe(0x80); // masked
  let len = f[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    len = f.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    len = Number(f.readBigUInt64BE(2));
    at = 10;
  }
  const mask = f.subarray(at, at + 4);
  const payload = Buffer.from(f.subarray(at + 4));
  expect(payload.length).toBe(len);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return { opcode: f[0]! & 0x0f, payload };
}

/**
 * A stand-in peer: a `ws` server on an ephemeral port that plays
 * `onConnection` to each subscriber (crafted frames, then a close).
 */
export async function standInPeer(
  onConnection: (ws: WebSocket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', onConnection);
  return {
    port: (wss.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/** One ws-msgpack subscriber on 2 symbols listening to a stand-in peer for 0.3 s. */
export function listenOnce(
  port: number,
  extra: (string | number)[],
): Promise<Record<string, unknown>> {
  return runLoadgen(
    [
      'run',
      '--port',
      port,
      '--peer',
      'ws-msgpack',
      '--subs',
      1,
      '--symbols',
      2,
      '--duration',
      0.3,
      ...extra,
    ],
    { timeoutMs: 10_000 },
  );
}
