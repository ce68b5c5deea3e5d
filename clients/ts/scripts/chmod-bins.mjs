// Marks the CLI launchers and the compiled entry points executable.
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const [name, rel] of Object.entries(pkg.bin)) {
  chmodSync(join(root, rel), 0o755);
  chmodSync(join(root, 'dist/clients/ts/src/bin', `${name}.js`), 0o755);
}
