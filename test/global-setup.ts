/**
 * Builds the dashboard bundle (dist/web/) once before the test files run, so
 * the servers they start serve the current web/ sources.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build-web.mjs', import.meta.url));
  execFileSync(process.execPath, [script], { stdio: 'ignore' });
}
