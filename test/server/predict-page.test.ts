import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../support/browser';
import { REPO_ROOT } from '../support/cli-process';
import { startServing, type RunningServer } from '../../model/server/serve';
import { buildFixtureBundle } from './fixture-bundle';

const SCREENSHOTS = join(REPO_ROOT, 'test-results');

/** Console errors and CSP violations: the page must run under the strict CSP without any. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

describe.skipIf(!chromiumAvailable())('the predictor web page in Chromium', () => {
  let running: RunningServer;
  let keyed: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const bundle = (await buildFixtureBundle()).bundleFile;
    const common = { bundle, host: '127.0.0.1', port: 0, pollSeconds: 0, rateLimit: { perSecond: 20, burst: 60 }, log: () => {} };
    running = await startServing(common);
    keyed = await startServing({ ...common, apiKey: 'page-test-key-0123456789' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await keyed?.stop();
  });

  it('searches as you type, picks a product, shows the advice and draws the history chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems = watchProblems(page);
    await page.goto(running.http.url);
    await expect.poll(() => page.getByTestId('model-info').textContent()).toMatch(/^Model \S+ · 60 products · published /);

    await page.getByTestId('search').pressSequentially('ristr', { delay: 40 });
    // Keystrokes may outrun the debounce on a busy machine: wait for the answer to the whole word.
    await expect.poll(() => page.getByTestId('result').count(), { timeout: 5_000 }).toBe(1);
    const first = page.getByTestId('result').first();
    expect(await first.textContent()).toContain('Ristretto Coffee Beans 1 kg');
    await first.click();

    await page.getByTestId('product').waitFor({ state: 'visible' });
    expect(await page.getByTestId('product-name').textContent()).toBe('Ristretto Coffee Beans 1 kg');
    expect(await page.getByTestId('recommendation').textContent()).toMatch(/^(Buy now|Wait)$/);
    await expect.poll(() => page.getByTestId('question').textContent()).toBe('Will the price fall at least 5 % within 14 days?');
    expect(await page.getByTestId('will-drop').textContent()).toMatch(/^(Yes|No)$/);
    expect(await page.getByTestId('confidence').textContent()).toMatch(/^\d+ %$/);
    expect(await page.getByTestId('drop-amount').textContent()).toMatch(/\d/);
    expect(await page.getByTestId('drop-pct').textContent()).toMatch(/^\d+\.\d %$/);
    expect(await page.getByTestId('risk').textContent()).toMatch(/^(Low|Medium|High)$/);
    expect(await page.getByTestId('reasons').locator('li').count()).toBeGreaterThan(0);

    const chart = page.getByTestId('chart');
    await expect.poll(() => chart.locator('canvas').count()).toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(2);
    // The chart really painted: its canvas is not blank.
    const painted = await chart.locator('canvas').first().evaluate((element) => {
      // Runs in the page: a canvas element (the Node tsconfig has no DOM types).
      const canvas = element as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
      return ink;
    });
    expect(painted).toBeGreaterThan(1000);
    expect(page.url()).toContain('#product=coffee-1kg');
    await page.screenshot({ path: join(SCREENSHOTS, 'predictor-page.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('picks with the keyboard by id, and opens a deep link', async () => {
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await page.goto(running.http.url);
    await page.getByTestId('search').pressSequentially('tea-1', { delay: 30 });
    await expect.poll(() => page.getByTestId('result').count(), { timeout: 5_000 }).toBe(1);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('product-name').textContent()).toBe('Earl Grey Tea 100 bags');

    await page.goto(`${running.http.url}#product=${encodeURIComponent('crème-brûlée')}`);
    await page.reload();
    await expect.poll(() => page.getByTestId('product-name').textContent()).toBe('Crème brûlée dessert pots');
    await page.getByTestId('search').fill('');
    await page.getByTestId('search').pressSequentially('qqqq', { delay: 30 });
    await expect.poll(() => page.getByTestId('search-status').textContent()).toMatch(/No product matches/);
    expect(problems).toEqual([]);
  });

  it('asks for the API key when the server needs one, then works', async () => {
    const page = await browser.newPage();
    await page.goto(keyed.http.url);
    await page.getByTestId('search').pressSequentially('coffee', { delay: 30 });
    await page.getByTestId('key-form').waitFor({ state: 'visible' });
    expect(await page.getByTestId('error').textContent()).toMatch(/API key/);
    await page.locator('#api-key').fill('page-test-key-0123456789');
    await page.getByRole('button', { name: 'Use key' }).click();
    await expect.poll(() => page.getByTestId('result').count(), { timeout: 5_000 }).toBe(1);
    await page.getByTestId('result').first().click();
    await expect.poll(() => page.getByTestId('recommendation').textContent()).toMatch(/^(Buy now|Wait)$/);
  });
});
