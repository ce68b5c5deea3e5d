// Bundles the client for browsers with esbuild (msgpackr external), minifies,
// gzips and prints the sizes. Fails if the stream client passes its budget.
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = 12 * 1024;

async function measure(entry) {
  const result = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['msgpackr'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const stream = await measure('src/stream-client.ts');
const all = await measure('src/index.ts');
console.log(
  `StreamClient (browser, minified): ${kb(stream.raw)}, gzip ${kb(stream.gzip)} (${stream.gzip} B) + msgpackr`,
);
console.log(
  `whole SDK (FeedClient + StreamClient): ${kb(all.raw)}, gzip ${kb(all.gzip)} (${all.gzip} B) + msgpackr`,
);
if (stream.gzip > BUDGET) {
  console.error(`StreamClient is over its ${kb(BUDGET)} gzip budget`);
  process.exit(1);
}
