/**
 * Loads uWebSockets.js and tells whether its native binary loaded.
 *
 * The registry build we depend on falls back, with only a console warning,
 * to a pure-JS emulation when its binary does not load (wrong glibc, wrong
 * Node ABI) or when UWS_USE_FALLBACK is set. That emulation is far slower, so
 * the server refuses to start on it unless explicitly allowed.
 */
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);

export type UwsModule = typeof UWS;

export const uws = require('uWebSockets.js') as UwsModule;

/** True when uWS.App is the native binding, not the JS fallback. */
export const uwsNative: boolean = String(uws.App).includes('[native code]');
