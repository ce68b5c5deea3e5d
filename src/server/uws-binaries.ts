/**
 * Which native uWebSockets.js binary serves which Node.js, and the checks made before one is loaded.
 *
 * Node 20 (ABI 115): the binary inside `uWebSockets.js`, installed from the npm registry as
 *   @trufflesuite/uws-js-unofficial@20.30.0-unofficial.0 (a fork of uWebSockets.js v20.30; glibc >= 2.27).
 * Node 22 (ABI 127) and 24 (ABI 137): uWebSockets.js v20.69.0 as republished on the npm registry by
 *   @uwsjs/linux-x64-22 and @uwsjs/linux-x64-24 (Apache-2.0; glibc >= 2.38). They are exact-pinned
 *   optionalDependencies: npm installs only the one whose `engines` matches the Node that runs npm.
 * Provenance cannot be checked against the official release from the registry, so each binary's
 * sha256 is pinned here and checked before the binary is loaded (see docs/runtimes.md).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UwsUnavailableError } from '../errors.js';

export interface NativeBinary {
  /** Node.js major version this binary is built for (for messages). */
  readonly node: string;
  /** Module specifier resolved with require.resolve. */
  readonly specifier: string;
  /** npm package (and version) that ships it. */
  readonly pkg: string;
  readonly sha256: string;
}

/** Keyed by `${process.platform}-${process.arch}-${process.versions.modules}`. */
export const BINARIES: Readonly<Record<string, NativeBinary>> = Object.freeze({
  'linux-x64-115': {
    node: '20',
    specifier: 'uWebSockets.js/binaries/uws_linux_x64_115.node',
    pkg: 'uWebSockets.js (@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0)',
    sha256: 'f158fb441f7e2e37b3ab9a56782fe37f4c0d33b5cd32e96ee5c0120ce7db7ced',
  },
  // Not run on this project's CI (x64 only); the same package and version as linux-x64-115.
  'linux-arm64-115': {
    node: '20',
    specifier: 'uWebSockets.js/binaries/uws_linux_arm64_115.node',
    pkg: 'uWebSockets.js (@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0)',
    sha256: 'fa46518766a985c6a79daef039f40cccd8e98e9a288f2ceaf31a0a18901bbfd5',
  },
  'linux-x64-127': {
    node: '22',
    specifier: '@uwsjs/linux-x64-22/uws.node',
    pkg: '@uwsjs/linux-x64-22@20.69.0',
    sha256: '34d235864db874fbf3aeafd48b63f6fb80f61fb584a86f1e5f7b0291dbd7a3d4',
  },
  'linux-x64-137': {
    node: '24',
    specifier: '@uwsjs/linux-x64-24/uws.node',
    pkg: '@uwsjs/linux-x64-24@20.69.0',
    sha256: '177efdc682425d754474bd30f9586c487fa6694f790f3406a23885d0e61c07a0',
  },
});

export const SUPPORTED =
  'supported: Linux with glibc, Node 20 on x64 or arm64 (glibc >= 2.27), Node 22 and 24 on x64 (glibc >= 2.38, e.g. Debian 13, Ubuntu 24.04, RHEL 10)';

/** The glibc version this process runs on, or a word saying there is none. */
export function glibcRuntime(): string {
  const report = process.report?.getReport() as
    { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? 'none (not glibc)';
}

/** One line naming this Node, its ABI, platform and glibc, then the reason. */
export function unavailable(reason: string): UwsUnavailableError {
  const where = `${process.platform}-${process.arch}, glibc ${glibcRuntime()}`;
  return new UwsUnavailableError(
    `cannot load uWebSockets.js on Node ${process.version} (ABI ${process.versions.modules}, ${where}): ${reason}`,
  );
}

/** The binary for a platform, arch and Node ABI; throws UwsUnavailableError when there is none. */
export function selectBinary(platform: string, arch: string, abi: string): NativeBinary {
  const bin = BINARIES[`${platform}-${arch}-${abi}`];
  if (bin === undefined)
    throw unavailable(`no native binary for this Node and platform; ${SUPPORTED}.`);
  return bin;
}

/** Throws UwsUnavailableError unless the file's sha256 is the pinned one. */
export function verifyBinary(file: string, bin: NativeBinary): void {
  const actual = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (actual !== bin.sha256) {
    throw unavailable(
      `${file} has sha256 ${actual}, expected ${bin.sha256} for ${bin.pkg}; reinstall with \`npm ci\`.`,
    );
  }
}
