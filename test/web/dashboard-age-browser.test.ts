/**
 * The dashboard's "age" column is the time since the update's `r` (the
 * server's timestamp), on the server's clock, not since the browser got the
 * update. In Chromium (playwright-core, /usr/bin/chromium) with both clocks
 * under the test's control: the page's clock is fixed years away from the
 * server's, and /stats/stream is routed so the test says what the server's
 * clock reads (`time`). A tick goes through the real server; its `r` is read
 * by a plain subscriber. Skipped, with a notice, where Chromium is missing.
 */
import { existsSync } from 'node:fs';
import { type Browser, type Page, type WebSocketRoute, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRecord } from '../helpers/clients.js';
import { type TestServer, startServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard age browser test skipped: ${CHROMIUM} not found`);

const POLL = { timeout: 8000, interval: 50 };
/** The page's clock: 2001-01-01, far from the server's. */
const PAGE_NOW = Date.UTC(2001, 0, 1);

describe.skipIf(!hasChromium)('dashboard age column', () => {
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  let stats: WebSocketRoute | undefined;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ts = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    // Date.now() on the page reads PAGE_NOW; timers and frames keep running.
    await page.clock.setFixedTime(PAGE_NOW);
    // /stats/stream answered by the test, not the server.
    await page.routeWebSocket(/\/stats\/stream$/, (ws) => {
      stats = ws;
    });
    await page.goto(ts.httpUrl('/'));
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await ts?.stop();
  });

  /** Sends one /stats/stream snapshot saying the server's clock reads `serverMs`. */
  const serverClockReads = (serverMs: number): void => {
    stats!.send(JSON.stringify({ ...ts.server.statsSnapshot(), time: serverMs }));
  };
  const age = (): Promise<string> =>
    page.locator('#board tr[data-symbol="ZZAGE"] td:nth-child(8)').innerText();

  test('age = server clock − r, whatever the browser clock says', async () => {
    await expect.poll(() => page.locator('#conn').innerText(), POLL).toBe('live');
    await expect.poll(() => stats !== undefined, POLL).toBe(true);
    const probe = await ts.stream();
    await ts.subscribe(probe, ['ZZAGE']);
    const feed = await ts.feed();
    feed.sendPack({ s: 'ZZAGE', p: 1.5 });
    const update = await probe.nextData((d) => isRecord(d) && d.s === 'ZZAGE');
    const rMs = (update as { r: number }).r / 1000;

    serverClockReads(rMs + 4200);
    await expect.poll(age, POLL).toBe('4.2 s');
    // The page's clock moves on 2 s: the server's is taken to move with it.
    await page.clock.setFixedTime(PAGE_NOW + 2000);
    await expect.poll(age, POLL).toBe('6.2 s');
    // A newer reading of the server's clock wins.
    serverClockReads(rMs + 61_000);
    await expect.poll(age, POLL).toBe('>1 min');
    expect(consoleErrors).toEqual([]);
  });
});
