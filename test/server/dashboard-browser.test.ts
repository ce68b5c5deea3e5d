/**
 * The dashboard in a real browser (playwright-core driving /usr/bin/chromium)
 * against an in-process demo server: loads without console errors, live
 * figures move, the symbol board fills from /stream, a tick sent over /feed
 * shows up, and the load-test panel runs (and refuses a wrong token).
 * Skipped, with a notice, where Chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestServer, startServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} not found`);

const ADMIN = 'admin-token-456';
const POLL = { timeout: 8000, interval: 100 };

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ts = await startServer({ demo: true, demoRate: 1500, adminToken: ADMIN });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(ts.httpUrl('/'));
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await ts?.stop();
  });

  const text = (sel: string): Promise<string> => page.locator(sel).innerText();

  test('the page loads and connects', async () => {
    await expect.poll(() => text('#conn'), POLL).toBe('live');
    await expect.poll(() => text('#uptime'), POLL).not.toBe('–');
    expect(consoleErrors).toEqual([]);
  });

  test('latency and throughput figures change over time', async () => {
    await expect.poll(() => text('#lat-p50'), POLL).not.toBe('–');
    const p50 = await text('#lat-p50');
    const p99 = await text('#lat-p99');
    const ticks = await text('#rate-ticks');
    // A burst over /feed on top of the demo feed moves the ticks/s figure.
    const feed = await ts.feed();
    feed.sendPack(Array.from({ length: 700 }, (_, i) => ({ s: `BURST${i % 7}`, p: 10 + i })));
    await expect.poll(() => text('#rate-ticks'), POLL).not.toBe(ticks);
    await expect
      .poll(async () => `${await text('#lat-p50')} ${await text('#lat-p99')}`, POLL)
      .not.toBe(`${p50} ${p99}`);
    expect(await text('#symbols')).not.toBe('–');
  });

  test('the symbol board lists the demo symbols and their n increases', async () => {
    const n = (): Promise<number> =>
      text('#board tr[data-symbol="AAPL"] td:nth-child(6)').then((t) =>
        Number(t.replace(/,/g, '')),
      );
    await expect.poll(n, POLL).toBeGreaterThan(0);
    const first = await n();
    await expect.poll(n, POLL).toBeGreaterThan(first);
    await expect.poll(() => page.locator('#board tbody tr').count(), POLL).toBeGreaterThan(30);
    // The filter hides the rest.
    await page.fill('#filter', 'usd');
    await expect.poll(() => page.locator('#board tbody tr:visible').count(), POLL).toBe(7);
    await page.fill('#filter', '');
  });

  test('a tick published over /feed appears on the board', async () => {
    const feed = await ts.feed();
    feed.sendPack({ s: 'ZZTEST', p: 123.45, b: 123.4, a: 123.5, q: 1 });
    const row = page.locator('#board tr[data-symbol="ZZTEST"]');
    await expect.poll(() => row.count(), POLL).toBe(1);
    // Off-screen rows are redrawn when scrolled into view.
    await row.scrollIntoViewIfNeeded();
    await expect.poll(() => row.innerText(), POLL).toContain('123.45');
  });

  test('screenshot', async () => {
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard.png' });
  });

  test('the load-test panel runs a short test with the admin token', async () => {
    await page.fill('#lt-token', ADMIN);
    await page.fill('#lt-rate', '5000');
    await page.fill('#lt-symbols', '50');
    await page.fill('#lt-subscribers', '2');
    await page.fill('#lt-duration', '2');
    await page.click('#lt-run');
    await expect.poll(() => text('#lt-status'), POLL).toMatch(/^running/);
    await expect.poll(() => page.locator('#lt-result').isVisible(), POLL).toBe(true);
    expect(await text('#lt-status')).toMatch(/^done/);
    expect(Number((await text('#lt-ticks')).replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await text('#lt-p99')).not.toBe('–');
    expect(consoleErrors).toEqual([]);
  });

  test('the load-test panel refuses a wrong token', async () => {
    await page.fill('#lt-token', 'wrong-token-000');
    await page.click('#lt-run');
    await expect.poll(() => text('#lt-status'), POLL).toMatch(/unauthorized/);
    // The browser logs the 401 response itself; nothing else may be logged.
    expect(consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });

  test('without an admin token the panel says how to enable it', async () => {
    const plain = await startServer({ demo: true });
    const p2 = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors: string[] = [];
    p2.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    p2.on('pageerror', (e) => errors.push(e.message));
    try {
      await p2.goto(plain.httpUrl('/'));
      const notice = p2.locator('#lt-disabled');
      await expect.poll(() => notice.isVisible(), POLL).toBe(true);
      expect(await notice.innerText()).toContain('--admin-token');
      expect(await p2.locator('#lt-run').isDisabled()).toBe(true);
      // Phone size: the page does not scroll sideways.
      const overflow = await p2.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow as number).toBeLessThanOrEqual(0);
      expect(errors).toEqual([]);
    } finally {
      await p2.close();
      await plain.stop();
    }
  });
});
