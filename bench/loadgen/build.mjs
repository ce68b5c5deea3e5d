/**
 * Builds the native load generator from bench/loadgen/src with the machine's C
 * compiler (`$CC`, else `cc`) at -O2 into bench/loadgen/build/ (ignored by
 * git: no binary is committed). Rebuilds when the sources or the flags change
 * (a hash of both is kept next to the binary). Concurrent callers (test files
 * in parallel forks) take turns through a lock directory; the binary is
 * written under a temporary name and renamed, so nobody runs a half-written one.
 * Usage: node bench/loadgen/build.mjs   (prints the binary's path)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SRC = join(here, 'src');
const OUT = join(here, 'build');
export const LOADGEN_BIN = join(OUT, 'loadgen');
const STAMP = join(OUT, 'loadgen.hash');
const LOCK = join(OUT, 'lock');
const FLAGS = ['-O2', '-Wall', '-Wextra', '-D_GNU_SOURCE'];
const LIBS = ['-lm'];

function compiler() {
  return process.env.CC || 'cc';
}

/** True when a C compiler answers `--version`. */
export function hasCompiler() {
  const r = spawnSync(compiler(), ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

function sources() {
  return readdirSync(SRC)
    .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
    .sort();
}

function wantedHash() {
  const h = createHash('sha256');
  h.update([compiler(), ...FLAGS, ...LIBS].join(' '));
  for (const f of sources()) h.update(`\0${f}\0`).update(readFileSync(join(SRC, f)));
  return h.digest('hex');
}

function fresh(hash) {
  return existsSync(LOADGEN_BIN) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the build lock (a directory); breaks one left behind for over 2 minutes. */
function lock() {
  for (let waited = 0; ; waited += 50) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000)
          rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // gone meanwhile: try again
      }
      if (waited > 180_000) throw new Error(`loadgen build: lock ${LOCK} held for over 3 minutes`);
      sleepMs(50);
    }
  }
}

/**
 * Returns the path of an up-to-date binary, compiling it first if needed.
 * Throws when there is no C compiler or the build fails (with its output).
 */
export function ensureLoadgen() {
  const hash = wantedHash();
  if (fresh(hash)) return LOADGEN_BIN;
  if (!hasCompiler()) {
    throw new Error(
      `loadgen: no C compiler (tried \`${compiler()}\`): install one (Debian: apt-get install gcc) or set CC`,
    );
  }
  mkdirSync(OUT, { recursive: true });
  lock();
  try {
    if (fresh(hash)) return LOADGEN_BIN; // built by another process while we waited
    const tmp = `${LOADGEN_BIN}.${process.pid}.tmp`;
    const files = sources()
      .filter((f) => f.endsWith('.c'))
      .map((f) => join(SRC, f));
    const r = spawnSync(compiler(), [...FLAGS, '-o', tmp, ...files, ...LIBS], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) {
      rmSync(tmp, { force: true });
      throw new Error(`loadgen: build failed:\n${r.stderr ?? ''}${r.error?.message ?? ''}`);
    }
    if (r.stderr) process.stderr.write(r.stderr); // warnings
    renameSync(tmp, LOADGEN_BIN);
    writeFileSync(STAMP, hash);
    return LOADGEN_BIN;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(ensureLoadgen());
}
