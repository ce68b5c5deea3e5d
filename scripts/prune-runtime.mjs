// Prunes a production install of tickwire down to what this platform loads. Run by the Dockerfile
// (build stage, in the folder that becomes the image's /app) and by scripts/ci/image-check.sh:
//   node scripts/prune-runtime.mjs [APP_DIR]        (default: the current directory)
// APP_DIR holds the unpacked package (dist/src/...) and its `npm ci --omit=dev` node_modules.
//
// Removes:
//  - every native binary inside node_modules/uWebSockets.js (the @trufflesuite fork ships one per
//    platform and Node ABI, 113 MB) except the one the loader picks for the Node, platform and arch
//    running this script. The choice comes from the loader's own table (dist/src/server/
//    uws-binaries.js): on Node 22 and 24 that binary lives in @uwsjs/linux-x64-NN, so none of the
//    fork's is kept. The fork's JS and package.json stay: UWS_USE_FALLBACK=1 (the JS emulation,
//    src/server/uws.ts) still resolves.
//  - prebuilds/<platform>-<arch> folders of other platforms (node-gyp-build layout: bufferutil,
//    utf-8-validate).
// Then checks the selected binary's sha256 the way the server does before loading it, so a
// mismatched or missing binary fails the image build, not the first start. Run it with the Node
// the image runs: it prunes for process.platform/arch/versions.modules.
import { existsSync, lstatSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const app = resolve(process.argv[2] ?? '.');
const modules = join(app, 'node_modules');
const MB = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

function fail(why) {
  console.error(`prune-runtime: ${why}`);
  process.exit(1);
}

/** Bytes of the regular files under dir (symlinks not followed). */
function sizeOf(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += sizeOf(p);
    else if (e.isFile()) total += lstatSync(p).size;
  }
  return total;
}

/** Paths under dir (symlinks not followed) for which match(entry, path) is true. */
function find(dir, match, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (match(e, p)) out.push(p);
    else if (e.isDirectory()) find(p, match, out);
  }
  return out;
}

let binaries;
try {
  binaries = await import(pathToFileURL(join(app, 'dist/src/server/uws-binaries.js')).href);
} catch (e) {
  fail(`cannot load ${app}/dist/src/server/uws-binaries.js (unpack and build first): ${e.message}`);
}
let bin;
let keep;
try {
  bin = binaries.selectBinary(process.platform, process.arch, process.versions.modules);
  keep = realpathSync(createRequire(join(app, 'package.json')).resolve(bin.specifier));
  binaries.verifyBinary(keep, bin);
} catch (e) {
  fail(e.message);
}

const before = sizeOf(modules);
const uwsDir = join(modules, 'uWebSockets.js');
const natives = existsSync(uwsDir)
  ? find(uwsDir, (e, p) => e.isFile() && e.name.endsWith('.node') && realpathSync(p) !== keep)
  : [];
let uwsBytes = 0;
for (const p of natives) {
  uwsBytes += lstatSync(p).size;
  rmSync(p);
}

// A prebuilds/ child is kept when it is named <this platform>-<archs joined by '+'>.
const ownPlatform = (name) => {
  const [platform, archs = ''] = name.split('-');
  return platform === process.platform && archs.split('+').includes(process.arch);
};
const foreign = find(modules, (e) => e.isDirectory() && e.name === 'prebuilds').flatMap((dir) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !ownPlatform(e.name))
    .map((e) => join(dir, e.name)),
);
let prebuildBytes = 0;
for (const p of foreign) {
  prebuildBytes += sizeOf(p);
  rmSync(p, { recursive: true });
}

const after = sizeOf(modules);
console.log(
  `prune-runtime: node_modules ${MB(before)} -> ${MB(after)}: removed ${natives.length} ` +
    `uWebSockets.js binaries of other platforms or Node versions (${MB(uwsBytes)}) and ` +
    `${foreign.length} prebuilds folders of other platforms (${MB(prebuildBytes)}); ` +
    `uWebSockets.js for Node ${process.versions.node}: ${relative(app, keep)} (${bin.pkg}, sha256 ok)`,
);
