import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Locator, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../support/browser';
import { REPO_ROOT, startHeadless, tempWorkspace, type ServingProcess } from '../support/cli-process';
import type { BacktestReport } from '../../model/evaluation/report-types';

/**
 * Every screen's main flow in Chromium against `pricedrop start --headless` (the browser build,
 * same renderer and handlers as the desktop app): start and stop the producer, run the ETL,
 * filter and cross-filter the dashboard and check its numbers against the cache, drill, export,
 * open a product and read its advice, train a model, create an alert and see it fire, settings.
 * Saves a screenshot of every screen under test-results/.
 */
const SCREENSHOTS = join(REPO_ROOT, 'test-results');
const numberIn = async (locator: Locator) => Number(((await locator.textContent()) ?? '').replace(/[^0-9.]/g, ''));

/** Docker's producer image needs a base image this machine can reach (no registry): the local one, when built. */
function localBaseImage(): string | undefined {
  try {
    execFileSync('docker', ['image', 'inspect', 'local/node-base:20'], { stdio: 'ignore', timeout: 5000 });
    return 'local/node-base:20';
  } catch {
    return undefined;
  }
}

interface Expected {
  avg_drop_pct: number | null;
  products_analysed: number;
  products_with_drop: number;
}

describe.skipIf(!chromiumAvailable())('the app in Chromium: every screen', () => {
  let server: ServingProcess;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  /** The KPIs computed straight from the cache (opened read-only), for a WHERE clause. */
  function expectedKpis(where = '', params: (string | number)[] = []): Expected {
    const db = new Database(join(workspace, 'cache.db'), { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare(
          `SELECT ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) AS avg_drop_pct,
             COUNT(DISTINCT source || char(31) || product_id) AS products_analysed,
             COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop
           FROM observations ${where}`,
        )
        .get(...params) as Expected;
    } finally {
      db.close();
    }
  }

  function queryCache<T>(sql: string, ...params: (string | number)[]): T {
    const db = new Database(join(workspace, 'cache.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).get(...params) as T;
    } finally {
      db.close();
    }
  }

  // All three at once: a filter can leave one KPI as it was (every product seen in the last two
  // weeks, say), and polling that one alone passed before the panel had refreshed.
  async function expectKpis(expected: Expected) {
    const avg = expected.avg_drop_pct ?? 0;
    const shown = async () => ({
      products: await numberIn(page.getByTestId('kpi-products-value')),
      withDrop: await numberIn(page.getByTestId('kpi-products-drop-value')),
      // As toBeCloseTo(avg, 2): within 0.005.
      avgDropWithin: Math.abs((await numberIn(page.getByTestId('kpi-avg-drop-value'))) - avg) < 0.005,
    });
    await expect.poll(shown, { timeout: 10_000 }).toEqual({ products: expected.products_analysed, withDrop: expected.products_with_drop, avgDropWithin: true });
  }

  async function api<T>(name: string, params: unknown = {}): Promise<T> {
    const response = await fetch(new URL(`/api/invoke/${name}`, server.base), { method: 'POST', headers: { 'Content-Type': 'application/json', ...server.auth }, body: JSON.stringify(params) });
    const body = (await response.json()) as { result: T };
    return body.result;
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    workspace = tempWorkspace('pricedrop-e2e-app-');
    const base = process.env.PRICEDROP_BASE_IMAGE ?? localBaseImage();
    if (base) process.env.PRICEDROP_BASE_IMAGE = base;
    // The producer starts from the Pipeline screen, not with the server.
    server = await startHeadless(workspace, ['--no-producer']);
    // The Model screen's flow trains by hand: the forecaster's automatic training stays off here
    // (test/e2e/first-advice.test.ts covers it).
    await api('settings/update', { producer: { products: 60, intervalSeconds: 2 }, forecaster: { autoTrain: false } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    // As a user: open the printed address once; the page keeps its session cookie from then on.
    await page.goto(server.url);
    await page.locator('header', { hasText: 'browser' }).waitFor({ timeout: 10_000 });
    if (page.url().includes('token')) throw new Error(`the token stayed in the address bar: ${page.url()}`);
  });

  afterAll(async () => {
    await api('producer/stop').catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  it('Pipeline: starts the producer, runs the ETL with progress into the history, stops the producer', async () => {
    await page.goto(`${server.base}#/pipeline`);
    await page.getByTestId('producer-backfill').fill('100');
    await page.getByTestId('producer-start').click();
    await expect.poll(() => page.getByTestId('producer-state').textContent(), { timeout: 90_000, interval: 500 }).toBe('running');
    // The backfill (100 days × 60 products) reaches the cache through the ETL loop.
    await expect.poll(() => queryCache<{ n: number }>('SELECT COUNT(DISTINCT dt) AS n FROM observations').n, { timeout: 30_000, interval: 500 }).toBeGreaterThanOrEqual(100);

    await page.getByTestId('producer-stop').click();
    await expect.poll(() => page.getByTestId('producer-state').textContent(), { timeout: 30_000, interval: 500 }).toMatch(/exited|idle/);

    // The producer delivered its last batch on stop: this run sees it through.
    await page.getByTestId('etl-run').click();
    await expect.poll(() => page.getByTestId('etl-status').getAttribute('data-status'), { timeout: 30_000, interval: 250 }).toBe('succeeded');
    await expect(page.getByTestId('run-history').locator('tbody tr').count()).resolves.toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('run-history').textContent()).toContain('Local ETL');
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-pipeline.png'), fullPage: true });
  });

  it('Dashboard: numbers match the cache, unfiltered, cross-filtered by a category bar and a slice, and by dates', async () => {
    await page.goto(`${server.base}#/dashboard`);
    await expectKpis(expectedKpis());
    expect(await page.getByTestId('data-as-of').textContent()).toMatch(/Data as of/);

    // Cross-filter: click the top category's bar (the first row from the top of the bar chart).
    const top = queryCache<{ category: string; n: number }>(
      `SELECT category, (SELECT COUNT(DISTINCT category) FROM observations) AS n FROM observations GROUP BY category
       ORDER BY ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) IS NULL, ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) DESC, category LIMIT 1`,
    );
    const rows = Math.min(10, top.n);
    const bars = page.getByTestId('panel-categories').locator('canvas').first();
    // grid: left 110, right 56, top 8, bottom 24 of a 260 px chart: row i's centre is 8 + (i + 0.5) × 228 / rows;
    // the top bar is the longest, so a third of the plot's width is on it.
    const barsBox = (await bars.boundingBox())!;
    await bars.click({ position: { x: 110 + (barsBox.width - 166) / 3, y: 8 + (0.5 * 228) / rows } });
    await expect.poll(() => page.locator('.active-filters .chip').first().textContent()).toContain(top.category);
    await expectKpis(expectedKpis('WHERE category = ?', [top.category]));

    // Cross-filter again: click the "drop" slice of the split (it starts at 12 o'clock, clockwise).
    const split = queryCache<{ drops: number; total: number }>('SELECT SUM(is_drop) AS drops, COUNT(*) AS total FROM observations WHERE category = ?', top.category);
    const pie = page.getByTestId('panel-split').locator('canvas').first();
    const box = (await pie.boundingBox())!;
    const angle = (Math.PI * 2 * (split.drops / split.total)) / 2; // middle of the drop slice, from 12 o'clock
    const radius = (Math.min(box.width, box.height) / 2) * 0.52; // between the 40 % and 64 % radii
    await pie.click({ position: { x: box.width / 2 + radius * Math.sin(angle), y: box.height * 0.46 - radius * Math.cos(angle) } });
    await expect.poll(() => page.locator('.active-filters').textContent()).toContain('drop ✕');
    await expectKpis(expectedKpis('WHERE category = ? AND is_drop = 1', [top.category]));

    // Drill: the products behind the selection are exactly the KPI's products.
    const withDrop = await numberIn(page.getByTestId('kpi-products-value'));
    await page.getByTestId('panel-categories-drill').click();
    await expect.poll(() => numberIn(page.getByTestId('drill-total'))).toBe(withDrop);
    expect(await page.getByTestId('drill-description').textContent()).toContain(top.category);

    // The filters are remembered by the backend: back on the dashboard after a reload, still applied.
    await page.goto(`${server.base}#/dashboard`);
    await page.reload();
    await expect.poll(() => page.locator('.active-filters').textContent()).toContain(top.category);
    await expectKpis(expectedKpis('WHERE category = ? AND is_drop = 1', [top.category]));

    // Date filter after a reset.
    await page.getByTestId('filter-reset').click();
    const days = queryCache<{ first: string; last: string }>('SELECT MIN(dt) AS first, MAX(dt) AS last FROM observations');
    const from = new Date(Date.parse(`${days.last}T00:00:00Z`) - 13 * 86_400_000).toISOString().slice(0, 10);
    await page.getByTestId('filter-from').fill(from);
    await page.getByTestId('filter-to').fill(days.last);
    await expectKpis(expectedKpis('WHERE dt >= ? AND dt <= ?', [from, days.last]));

    // Export a panel's data as CSV and its picture as PNG.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('panel-trend-csv').click()]);
    const csvText = readFileSync((await csv.path())!, 'utf8');
    expect(csvText.split('\r\n')[0]).toBe('period,avg_drop_pct,drops,observations');
    expect(csvText.split('\r\n').filter(Boolean).length).toBe(15); // header + 14 days
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('panel-categories-png').click()]);
    expect(png.suggestedFilename()).toMatch(/\.png$/);
    expect(readFileSync((await png.path())!).subarray(1, 4).toString('latin1')).toBe('PNG');
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-dashboard.png'), fullPage: true });
  });

  it('Model: trains with progress and shows the model in use, the advice chosen on validation and its backtest against every baseline', async () => {
    await page.goto(`${server.base}#/model`);
    await expect.poll(() => page.getByTestId('model-empty').isVisible()).toBe(true);
    expect(await page.getByTestId('forecaster-next').textContent()).toMatch(/Automatic training is off/);
    expect(await page.getByTestId('source-kinds').textContent()).toMatch(/simulator.*snapshots.*detected/);
    await page.getByTestId('train-trees').fill('20');
    await page.getByTestId('train-start').click();
    await expect.poll(() => page.getByTestId('train-status').getAttribute('data-status'), { timeout: 120_000, interval: 500 }).toBe('succeeded');
    await expect.poll(() => page.getByTestId('backtest-report').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByTestId('model-in-use').textContent()).toMatch(/Trained.*On data from/);
    const model = JSON.parse(readFileSync(join(workspace, 'models', 'current.json'), 'utf8')) as { policy: { in_use: string; reason: string }; backtest: BacktestReport };
    // The screen says which advice is in use and why, as the model file has it.
    expect(await page.getByTestId('model-policy').textContent()).toContain(model.policy.reason);
    expect(await page.getByTestId('model-slices').locator('tbody tr').count()).toBe(3);
    expect(await page.getByTestId('backtest-table').locator('tbody tr').count()).toBe(6);
    expect(await page.getByTestId('backtest-difference').textContent()).toMatch(/points/);
    expect(await page.getByTestId('reliability-chart').locator('canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('backtest-baselines').locator('canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('backtest-segments').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('forecast-quality').textContent()).toContain(`ECE${model.backtest.forecast.ece.toFixed(3)}`);
    // The backtest replays the advice on the test period again (on a worker thread): the same figures.
    await page.getByTestId('backtest-start').click();
    await expect.poll(() => page.getByTestId('backtest-status').getAttribute('data-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    const [decisions, products] = /([\d,]+) decisions on (\d+) products/.exec((await page.getByTestId('backtest-summary').textContent()) ?? '')!.slice(1).map((n) => Number(n.replace(/,/g, '')));
    expect({ decisions, products }).toEqual({ decisions: model.backtest.decisions, products: model.backtest.products });
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-model-report.png'), fullPage: true });
    // Publish the bundle for the headless predictor (into the workspace by default).
    await page.getByTestId('publish-start').click();
    await expect.poll(() => page.getByTestId('publish-status').getAttribute('data-status'), { timeout: 30_000, interval: 250 }).toBe('succeeded');
    expect(existsSync(join(workspace, 'bundles', 'current.pdbundle'))).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-model.png'), fullPage: true });
  });

  it('Products: finds a product, shows its statistics as the cache has them, and its advice', async () => {
    const product = queryCache<{ source: string; product_id: string; title: string; lowest: number; current: number }>(
      `SELECT p.source, p.product_id, p.title, MIN(o.price) AS lowest, p.last_price AS current
       FROM products p JOIN observations o USING (source, product_id) GROUP BY p.source, p.product_id ORDER BY p.product_id LIMIT 1`,
    );
    await page.goto(`${server.base}#/products`);
    await page.getByTestId('product-search').fill(product.product_id);
    await page.getByTestId('product-results').getByText(product.title).first().click();
    await expect.poll(() => page.getByTestId('product-title').textContent()).toBe(product.title);
    expect(await numberIn(page.getByTestId('stat-lowest').locator('dd').first())).toBeCloseTo(product.lowest, 2);
    expect(await page.getByTestId('good-deal-badge').count()).toBe(product.current <= product.lowest * 1.05 + 1e-9 ? 1 : 0);
    await expect.poll(() => page.getByTestId('prediction-advice').textContent(), { timeout: 10_000 }).toMatch(/^(Buy now|Wait)$/);
    expect(await page.getByTestId('prediction-confidence').textContent()).toMatch(/\d+ %/);
    expect(await page.getByTestId('prediction-reasons').locator('li').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('price-history').locator('canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-products.png'), fullPage: true });
  });

  it('Alerts: a rule on a product fires at once when its price is under the target, in the list and as a toast', async () => {
    const product = queryCache<{ product_id: string; title: string }>('SELECT product_id, title FROM products ORDER BY product_id LIMIT 1 OFFSET 1');
    await page.goto(`${server.base}#/alerts`);
    await page.getByTestId('rule-scope-product').click();
    await page.getByTestId('rule-product').fill(product.product_id);
    await expect.poll(() => page.getByTestId('rule-product-picked').count()).toBe(1);
    await page.getByTestId('rule-kind').selectOption('price_below');
    await page.getByTestId('rule-threshold').fill('1000000');
    await page.getByTestId('rule-create').click();
    await expect.poll(() => page.getByTestId('fired-alert').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('fired-alert').first().textContent()).toContain(product.title);
    await expect.poll(() => page.getByTestId('alert-toast').isVisible()).toBe(true);
    expect(await page.getByTestId('alert-rule').count()).toBe(1);
    expect(await page.getByTestId('alert-cap').textContent()).toMatch(/today 1 of at most 20/);
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-alerts.png'), fullPage: true });
  });

  it('Settings: stores AWS names in the workspace (no credentials) and exports the .pbids', async () => {
    await page.goto(`${server.base}#/settings`);
    await page.getByTestId('setting-aws-region').fill('us-east-2');
    await page.getByTestId('setting-aws-bucket').fill('analyst-lake');
    await page.getByTestId('setting-auto-train').uncheck();
    await page.getByTestId('settings-save').click();
    await expect.poll(() => page.getByTestId('settings-saved').isVisible()).toBe(true);
    const stored = JSON.parse(readFileSync(join(workspace, 'settings.json'), 'utf8')) as { aws: Record<string, string>; forecaster: { autoTrain: boolean } };
    expect(stored.aws).toMatchObject({ region: 'us-east-2', bucket: 'analyst-lake' });
    expect(stored.forecaster.autoTrain).toBe(false);
    expect(Object.keys(stored.aws).some((key) => /secret|access|token|password/i.test(key))).toBe(false);
    const [pbids] = await Promise.all([page.waitForEvent('download'), page.getByTestId('pbids-download').click()]);
    const file = JSON.parse(readFileSync((await pbids.path())!, 'utf8')) as { connections: { details: { protocol: string; address: { connectionString: string } } }[] };
    expect(file.connections[0]!.details.protocol).toBe('odbc');
    expect(file.connections[0]!.details.address.connectionString).toContain(join(workspace, 'cache.db'));
    await expect.poll(() => page.getByTestId('athena-connection-string').textContent()).toContain('S3OutputLocation=s3://analyst-lake/athena-results/');
    await page.reload();
    await expect.poll(() => page.getByTestId('setting-aws-region').inputValue()).toBe('us-east-2');
    await page.screenshot({ path: join(SCREENSHOTS, 'screen-settings.png'), fullPage: true });
    expect(existsSync(join(SCREENSHOTS, 'screen-pipeline.png'))).toBe(true);
  });
});
