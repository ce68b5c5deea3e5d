// Fails unless the built server loads the native uWebSockets.js binary for the running Node
// (sha256-checked by src/server/uws-binaries.ts; never the JS emulation). Run after `npm run build`.
const { uwsNative } = await import('../../dist/src/server/uws.js').catch((e) => {
  console.error(`uWebSockets.js: ${e.message}`);
  process.exit(1);
});
if (!uwsNative) {
  console.error('uWebSockets.js: the JS emulation loaded instead of the native binary');
  process.exit(1);
}
console.log(
  `uWebSockets.js native binary loaded (Node ${process.version}, ABI ${process.versions.modules})`,
);
