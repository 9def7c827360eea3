import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
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

  it('answers /api/health with ok, and nothing private', async () => {
    const response = await fetch(new URL('/api/health', server.base));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.ok).toBe(true);
    expect(Object.keys(body).sort()).toEqual(['ok', 'uptime_s', 'version']);
  });

  it('prints the address with its launch token, and lets only its holder in: 401 without, 200 with, 403 for a foreign Host', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(server.output()).toContain(`PriceDrop is serving at ${server.url}\n`);
    // Printed once, on stdout; never in a log line.
    expect(server.output().split(server.token).length - 1).toBe(1);
    const call = (headers: Record<string, string> = {}) => fetch(new URL('/api/invoke/app/info', server.base), { method: 'POST', headers });
    expect((await call()).status).toBe(401);
    expect((await call({ Authorization: 'Bearer not-the-token-0123456789' })).status).toBe(401);
    const ok = await call(server.auth);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { shell: string } }).result.shell).toBe('browser');
    const port = Number(new URL(server.base).port);
    const foreign = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/api/invoke/app/info', method: 'POST', headers: { Host: 'pricedrop.evil.example', ...server.auth } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(foreign).toBe(403);
  });

  it('the page trades the token for an HttpOnly, SameSite=Strict cookie, drops it from the address bar, and stores it nowhere', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}#/products`);
      await expect.poll(() => page.url()).toBe(`${server.base}#/products`);
      await expect.poll(async () => (await context.cookies()).length).toBe(1);
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: `pricedrop_session_${new URL(server.base).port}`, httpOnly: true, sameSite: 'Strict', path: '/' });
      expect(cookie!.value).not.toContain(server.token);
      // Evaluated in the page (a string: this file is compiled for Node, without the DOM's types).
      const stored = (await page.evaluate(
        '({ cookie: document.cookie, local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }), href: location.href, history: history.state })',
      )) as { cookie: string };
      expect(stored.cookie).toBe(''); // HttpOnly: no script reads it
      expect(JSON.stringify(stored)).not.toContain(server.token);
      // The cookie works on its own: a reload (no token in the address) still reaches the data.
      await page.goto(`${server.base}#/dashboard`);
      await expect.poll(async () => Number(((await page.getByTestId('kpi-products-value').textContent()) ?? '').replace(/[^0-9]/g, '') || 0), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(await page.getByTestId('auth-required').count()).toBe(0);
    } finally {
      await context.close();
    }
    // A browser without the cookie (or with an old address) is told what to open, and sees no data.
    const stranger = await browser.newContext();
    try {
      const page = await stranger.newPage();
      await page.goto(`${server.base}?token=an-old-token-from-yesterday#/dashboard`);
      await expect(page.getByTestId('auth-required').textContent()).resolves.toContain('launch token');
      await expect.poll(() => page.getByTestId('auth-required').count()).toBe(1);
      expect(page.url()).toBe(`${server.base}#/dashboard`);
      expect(await page.getByTestId('kpi-products-value').count()).toBe(0);
      expect(await stranger.cookies()).toEqual([]);
    } finally {
      await stranger.close();
    }
  });

  it('fills the six panels with data within 10 seconds, then filters', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const started = Date.now();
    await page.goto(server.url);
    expect(new URL(page.url()).search).toBe('');
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
