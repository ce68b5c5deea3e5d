// dist/cjs/ holds the CommonJS build (tsconfig.cjs.json); its own package.json
// tells Node and TypeScript that the .js and .d.ts files there are CommonJS,
// while the package itself stays "type": "module".
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
