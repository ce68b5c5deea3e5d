/**
 * The loader hands out the native uWebSockets.js binding, never the registry package's slow JS
 * emulation (which that package falls back to with only a console warning).
 */
import { expect, test } from 'vitest';
import { uws, uwsNative } from '../../src/server/uws.js';

test('uWebSockets.js is the native binding', () => {
  expect(process.env.UWS_USE_FALLBACK ?? '').toBe('');
  expect(uwsNative).toBe(true);
  expect(String(uws.App)).toContain('[native code]');
});
