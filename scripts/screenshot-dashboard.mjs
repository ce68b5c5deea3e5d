// Takes docs/dashboard.png: starts the built server (dist/) with --demo on a
// free port, lets the charts fill for a while, and screenshots the page at
// 1280x800 with Chromium. Usage: npm run build && node scripts/screenshot-dashboard.mjs [seconds]
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 30);
const server = spawn(
  process.execPath,
  [join(root, 'dist/src/main.js'), '--port', '0', '--host', '127.0.0.1', '--demo'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise((resolve, reject) => {
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (chunk) => {
    const m = /listening on (http:\/\/\S+)/.exec(chunk);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await page.screenshot({ path: join(root, 'docs/dashboard.png') });
  console.log(`docs/dashboard.png taken from ${url} after ${seconds} s`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
