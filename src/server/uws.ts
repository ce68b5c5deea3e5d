/**
 * Loads the native uWebSockets.js binary for the running Node.js (table and checks in
 * uws-binaries.ts). There is no automatic JS fallback: if the binary cannot be loaded, importing
 * this module throws UwsUnavailableError, one line that says which Node and glibc were found and
 * what to do. The registry package's pure-JS emulation is used only when explicitly requested with
 * UWS_USE_FALLBACK=1, and the server then still refuses to start without --allow-uws-fallback.
 */
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';
import { SUPPORTED, selectBinary, unavailable, verifyBinary } from './uws-binaries.js';

const require = createRequire(import.meta.url);

export type UwsModule = typeof UWS;

function loadNative(): UwsModule {
  const bin = selectBinary(process.platform, process.arch, process.versions.modules);
  let file: string;
  try {
    file = require.resolve(bin.specifier);
  } catch {
    throw unavailable(
      `${bin.pkg} is not installed; run \`npm ci\` (or \`npm install\`) with Node ${bin.node} itself: npm skips the optional binaries of other Node versions.`,
    );
  }
  verifyBinary(file, bin);
  try {
    return require(file) as UwsModule;
  } catch (e) {
    const msg = String((e as Error).message).split('\n')[0] ?? '';
    const needs = /GLIBC_(\d+\.\d+)' not found/.exec(msg);
    if (needs) throw unavailable(`${bin.pkg} needs glibc >= ${needs[1]}; ${SUPPORTED}.`);
    throw unavailable(`${msg}; ${SUPPORTED}.`);
  }
}

/**
 * Request-head limit, the same on every Node: uWS reads UWS_HTTP_MAX_HEADERS_SIZE once, when the
 * binary loads. v20.69 (Node 22/24) defaults to 4 KiB, which refuses a `?symbols=` list of a few
 * hundred symbols with 431, while v20.30 (Node 20) took 20 KiB heads. 16 KiB unless the operator
 * set the variable (documented in docs/protocol.md, "Limits").
 */
export const MAX_HEADERS_SIZE_DEFAULT = '16384';
process.env.UWS_HTTP_MAX_HEADERS_SIZE ??= MAX_HEADERS_SIZE_DEFAULT;

function fallbackRequested(): boolean {
  const v = process.env.UWS_USE_FALLBACK;
  return v === '1' || v?.toLowerCase() === 'true';
}

// The emulation is required by its own path, not through the package's entry point: that entry
// point honours only some spellings of UWS_USE_FALLBACK and would otherwise load its own native
// binary unchecked.
export const uws: UwsModule = fallbackRequested()
  ? (require('uWebSockets.js/dist/index') as UwsModule)
  : loadNative();

/** True when uWS.App is the native binding, not the JS fallback. */
export const uwsNative: boolean = String(uws.App).includes('[native code]');
