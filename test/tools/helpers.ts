/**
 * Shared by the tools' tests: temporary directories, hand-built updates,
 * running the built bins (bin/tickwire-replay.js, bin/tickwire-record.js)
 * as child processes, and taking a subscriber's updates apart byte for byte.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterEach } from 'vitest';
import type { TestClient } from '../helpers/clients.js';
import { ROOT, type Spawned, spawnCaptured } from '../helpers/process.js';
import { splitFrame } from '../../src/tools/frames.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-tools-'));
  dirs.push(dir);
  return dir;
}

/** Canonical: the smallest map header (msgpackr's default writes map16 for every object). */
export const packr = new Packr({ useRecords: false, variableMapSize: true });

/** MessagePack bytes of `value` as a canonical encoder writes them. */
export function pack(value: unknown): Uint8Array {
  return new Uint8Array(packr.pack(value));
}

/**
 * An update as the server makes one from `tick`: its pairs, then `n`
 * (uint32, or uint64 from 2^32) and `r` (uint64), under a header for 2 more.
 */
export function makeUpdate(tick: Record<string, unknown>, n: number, r: number): Uint8Array {
  const entries = Object.keys(tick).length;
  const body = pack(tick).subarray(entries < 16 ? 1 : 3);
  const total = entries + 2;
  const head = total < 16 ? [0x80 | total] : [0xde, total >>> 8, total & 0xff];
  const u64 = (v: number): number[] => {
    const hi = Math.floor(v / 2 ** 32);
    const lo = v >>> 0;
    return [
      hi >>> 24,
      (hi >>> 16) & 255,
      (hi >>> 8) & 255,
      hi & 255,
      lo >>> 24,
      (lo >>> 16) & 255,
      (lo >>> 8) & 255,
      lo & 255,
    ];
  };
  const nBytes =
    n <= 0xffffffff
      ? [0xce, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
      : [0xcf, ...u64(n)];
  const trailer = [0xa1, 0x6e, ...nBytes, 0xa1, 0x72, 0xcf, ...u64(r)];
  return Uint8Array.from([...head, ...body, ...trailer]);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Every update a subscriber received (snapshot ticks first), as raw bytes in hex, in order. */
export function receivedUpdates(client: TestClient): string[] {
  const out: string[] = [];
  for (const m of client.history) {
    if (!m.binary) continue;
    const frame = splitFrame(m.raw);
    if (frame.kind !== 'updates' && frame.kind !== 'snapshot') continue;
    const b = frame.bounds;
    for (let i = 0; i < b.length; i += 2) out.push(hex(m.raw.subarray(b[i], b[i + 1])));
  }
  return out;
}

export type ToolRun = Spawned;

/** Spawns `node bin/NAME.js ARGS` (the build must be current: ensureBuilt()). */
export function spawnTool(
  name: 'tickwire-replay' | 'tickwire-record',
  args: readonly string[],
  env: Record<string, string> = {},
): ToolRun {
  const run = spawnCaptured([process.execPath, join(ROOT, 'bin', `${name}.js`), ...args], env);
  children.push(run.child);
  return run;
}

/** Runs a tool to its end; `summary` is its last stdout line parsed as JSON (if it is JSON). */
export async function runTool(
  name: 'tickwire-replay' | 'tickwire-record',
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  summary: Record<string, unknown> | undefined;
}> {
  const run = spawnTool(name, args, env);
  const { code } = await run.exited;
  const last = run.stdout().trim().split('\n').at(-1) ?? '';
  let summary: Record<string, unknown> | undefined;
  try {
    summary = JSON.parse(last) as Record<string, unknown>;
  } catch {
    summary = undefined;
  }
  return { code, stdout: run.stdout(), stderr: run.stderr(), summary };
}
