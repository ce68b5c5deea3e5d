/**
 * The native-binary table and its checks: the running Node gets a binary whose pinned sha256
 * matches the installed file; unknown runtimes and altered files are refused with
 * uws_unavailable (never a silent fallback to the JS emulation).
 */
import { copyFileSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ServerErrorCode, UwsUnavailableError } from '../../src/errors.js';
import { BINARIES, selectBinary, verifyBinary } from '../../src/server/uws-binaries.js';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tw-uws-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UwsUnavailableError);
    return (e as UwsUnavailableError).code;
  }
  return undefined;
}

describe('uws-binaries', () => {
  test('the running Node has a binary, installed, with the pinned sha256', () => {
    const bin = selectBinary(process.platform, process.arch, process.versions.modules);
    const file = require.resolve(bin.specifier);
    expect(() => verifyBinary(file, bin)).not.toThrow();
  });

  test('every pinned sha256 is 64 hex digits and every ABI names one Node major', () => {
    for (const [key, bin] of Object.entries(BINARIES)) {
      expect(bin.sha256, key).toMatch(/^[0-9a-f]{64}$/);
      expect(key).toMatch(/^linux-(x64|arm64)-\d+$/);
    }
    expect(new Set(Object.values(BINARIES).map((b) => b.node)).size).toBe(3);
  });

  test('an unknown Node ABI is refused with uws_unavailable', () => {
    expect(codeOf(() => selectBinary('linux', 'x64', '999'))).toBe(ServerErrorCode.UwsUnavailable);
    expect(codeOf(() => selectBinary('darwin', 'arm64', process.versions.modules))).toBe(
      ServerErrorCode.UwsUnavailable,
    );
  });

  test('a binary with one byte changed is refused with uws_unavailable', () => {
    const bin = selectBinary(process.platform, process.arch, process.versions.modules);
    const copy = join(dir, 'uws.node');
    copyFileSync(require.resolve(bin.specifier), copy);
    expect(() => verifyBinary(copy, bin)).not.toThrow();
    const fd = openSync(copy, 'r+');
    writeSync(fd, Buffer.from([0x5a]), 0, 1, 4096);
    closeSync(fd);
    expect(codeOf(() => verifyBinary(copy, bin))).toBe(ServerErrorCode.UwsUnavailable);
  });
});
