// pack-check: waits for /readyz to answer 200, then checks that / serves the
// dashboard page and the script it loads. Usage: node probe.mjs http://HOST:PORT
import { setTimeout as sleep } from 'node:timers/promises';

const base = process.argv[2];
const fail = (why) => {
  console.error(`FAIL ${why}`);
  process.exit(1);
};

// Polled: the server gives no event to wait on from outside. 30 s bounds a hang.
const deadline = Date.now() + 30_000;
for (let status = 0; status !== 200;) {
  status = await fetch(`${base}/readyz`).then(
    (r) => r.status,
    () => 0,
  );
  if (status !== 200 && Date.now() > deadline) fail(`/readyz: ${status} after 30 s`);
  if (status !== 200) await sleep(100);
}
console.log('PASS GET /readyz: 200');

const page = await fetch(`${base}/`);
const html = await page.text();
const type = page.headers.get('content-type') ?? '';
if (
  page.status !== 200 ||
  !type.startsWith('text/html') ||
  !html.includes('<title>tickwire dashboard</title>')
) {
  fail(`GET /: ${page.status} ${type}: ${html.slice(0, 200)}`);
}
const script = /<script[^>]* src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
if (script === undefined) fail('GET /: no /assets/*.js script in the page');
const js = await fetch(`${base}${script}`);
if (js.status !== 200 || (await js.arrayBuffer()).byteLength === 0)
  fail(`GET ${script}: ${js.status}`);
console.log(`PASS GET /: dashboard HTML, ${script} served`);
