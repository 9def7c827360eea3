import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURE_NAMES, computeFeatures, decisionPoints, historyOf, type FeatureContext, type Observation } from '../../model/features';

/**
 * Features on the real Pick n Pay weekly snapshots (../shared/data/pnp_weekly): products appear
 * and disappear, one file is a failed scrape of 72 rows, names repeat within a file. Every
 * feature must stay finite, and truncating the later weeks must not move any earlier feature.
 */
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const folder = resolve(repoRoot, '../shared/data/pnp_weekly');
const available = existsSync(folder);
if (!available) console.warn(`skipping the Pick n Pay feature test: ${folder} is absent`);

function readWeeks(count: number): Observation[][] {
  const files = readdirSync(folder).filter((name) => /^pnp_products_\d{4}-\d{2}-\d{2}\.csv$/.test(name)).sort().slice(0, count);
  return files.map((file) => {
    const observedAt = Date.parse(`${file.slice(13, 23)}T00:00:00Z`);
    const lines = readFileSync(join(folder, file), 'utf8').split(/\r?\n/).slice(1);
    const rows: Observation[] = [];
    for (const line of lines) {
      // store,name,price,old_price,promotion; names may be quoted and hold commas.
      const match = /^([^,]*),("(?:[^"]|"")*"|[^,]*),([^,]*),([^,]*),/.exec(line);
      if (!match) continue;
      const name = match[2]!.replace(/^"|"$/g, '').replace(/""/g, '"');
      const price = Number(match[3]);
      const oldPrice = match[4] === '' ? null : Number(match[4]);
      if (!Number.isFinite(price) || price <= 0) continue;
      rows.push({ source: 'pnp', productId: name, observedAt, title: name, category: 'Uncategorized', price, oldPrice, currency: 'ZAR' });
    }
    return rows;
  });
}

const context: FeatureContext = { categoryCode: () => 0, categoryDropRate: () => 0.05 };

function histories(weeks: Observation[][], products: Set<string>) {
  const byProduct = new Map<string, Observation[]>();
  for (const week of weeks) for (const row of week) if (products.has(row.productId)) (byProduct.get(row.productId) ?? byProduct.set(row.productId, []).get(row.productId)!).push(row);
  return new Map([...byProduct].map(([id, rows]) => [id, historyOf(rows)!]));
}

describe.skipIf(!available)('features on the real Pick n Pay history', () => {
  const weeks = available ? readWeeks(12) : [];
  const products = new Set([...new Set(weeks.flat().map((row) => row.productId))].slice(0, 1500));

  it('computes finite features at every decision point of 1,500 products over 12 weeks', () => {
    let points = 0;
    for (const history of histories(weeks, products).values()) {
      for (const t of decisionPoints(history)) {
        const x = computeFeatures(history, t, context)!;
        for (let f = 0; f < FEATURE_NAMES.length; f++) if (!Number.isFinite(x[f]!)) throw new Error(`${FEATURE_NAMES[f]} of ${history.productId} at ${new Date(t).toISOString()} is ${x[f]}`);
        points++;
      }
    }
    expect(points).toBeGreaterThan(10_000);
  });

  it('gives the same features before week 8 whether or not weeks 8–12 exist', () => {
    const full = histories(weeks, products);
    const truncated = histories(weeks.slice(0, 7), products);
    const cutoff = weeks[7]![0]!.observedAt;
    let compared = 0;
    for (const [id, history] of truncated) {
      for (const t of decisionPoints(history)) {
        if (t >= cutoff) continue;
        expect(Array.from(computeFeatures(full.get(id)!, t, context)!)).toEqual(Array.from(computeFeatures(history, t, context)!));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(5_000);
  });
});
