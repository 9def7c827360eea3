import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../support/browser';
import { REPO_ROOT, startHeadless, tempWorkspace, type ServingProcess } from '../support/cli-process';

const SCREENSHOTS = join(REPO_ROOT, 'test-results');

describe.skipIf(!chromiumAvailable())('pricedrop start --headless in Chromium', () => {
  let server: ServingProcess;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await startHeadless(tempWorkspace());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('answers /api/health with ok', async () => {
    const response = await fetch(new URL('/api/health', server.url));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ok: boolean };
    expect(body.ok).toBe(true);
  });

  it('fills the six panels with data within 10 seconds, then filters', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const started = Date.now();
    await page.goto(server.url);
    const products = page.getByTestId('kpi-products-value');
    await expect.poll(async () => Number((await products.textContent())?.replace(/[^0-9]/g, '') || 0), { timeout: 10_000, interval: 250 }).toBeGreaterThan(0);
    const filledWithin = Date.now() - started;
    expect(filledWithin).toBeLessThan(10_000);

    for (const id of ['panel-trend', 'panel-categories', 'panel-split']) {
      await expect.poll(() => page.getByTestId(id).locator('canvas').count()).toBeGreaterThan(0);
    }
    const avgDrop = await page.getByTestId('kpi-avg-drop-value').textContent();
    expect(avgDrop).toMatch(/\d+\.\d\d %/);
    const productsBefore = Number((await products.textContent())!.replace(/[^0-9]/g, ''));
    const withDropBefore = Number((await page.getByTestId('kpi-products-drop-value').textContent())!.replace(/[^0-9]/g, ''));
    expect(withDropBefore).toBeGreaterThan(0);
    expect(withDropBefore).toBeLessThanOrEqual(productsBefore);

    // One filter: only drops. Every product analysed under that filter had a drop.
    await page.getByTestId('filter-drop-status').selectOption('drop');
    await expect.poll(async () => (await page.getByTestId('kpi-products-value').textContent()) === (await page.getByTestId('kpi-products-drop-value').textContent())).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-headless.png'), fullPage: true });
  });
});
