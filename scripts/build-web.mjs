// Bundles the dashboard (web/) with esbuild into dist/web/: hashed assets
// under dist/web/assets/ and an index.html that points at them.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { dashboard: 'web/dashboard.ts', style: 'web/style.css' },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  minify: true,
  sourcemap: false,
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const pick = (prefix, ext) => {
  const found = outputs.filter((f) => f.startsWith(prefix) && f.endsWith(ext));
  if (found.length !== 1) throw new Error(`expected one ${prefix}*${ext}, got ${found.join(', ')}`);
  return found[0];
};
const js = pick('dashboard-', '.js');
// The dashboard's own CSS import (uPlot's) becomes dashboard-HASH.css.
const css = [pick('dashboard-', '.css'), pick('style-', '.css')];
const html = readFileSync(join(root, 'web', 'index.html'), 'utf8')
  .replace(
    '<link rel="stylesheet" href="%CSS%" />',
    css.map((f) => `<link rel="stylesheet" href="/assets/${f}" />`).join('\n    '),
  )
  .replace('%JS%', `/assets/${js}`);
writeFileSync(join(out, 'index.html'), html);
console.log(`dist/web: index.html, ${outputs.join(', ')}`);
