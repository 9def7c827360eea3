import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, openCache } from '../../pipeline/cache/cache-db';
import { createObservationWriter, type CleanRow } from '../../pipeline/cache/observation-writer';
import { trainModel } from '../../pipeline/forecasting/workspace-training';
import { publishBundle } from '../../pipeline/forecasting/publish-bundle';
import { parseBundleLocation } from '../../model/bundle/bundle-source';
import { createRandom } from '../../model/forest/random-forest';

/** Named products the tests look up; the rest are generated ("Product 0007" …). */
export const KNOWN_PRODUCTS = [
  { id: 'coffee-1kg', name: 'Ristretto Coffee Beans 1 kg', category: 'Coffee', price: 14.99 },
  { id: 'tea-100', name: 'Earl Grey Tea 100 bags', category: 'Tea', price: 4.5 },
  { id: 'crème-brûlée', name: 'Crème brûlée dessert pots', category: 'Dessert', price: 3.25 },
];

export const FIXTURE_DAYS = 200;
const START = Date.UTC(2026, 3, 1);

/**
 * A small real workspace: `count` products observed daily for 200 days, with promotions (10–30 %
 * off for 4–14 days) at random intervals, written through the cache's observation writer.
 */
export function createFixtureWorkspace(count = 60, seed = 7): string {
  const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-server-ws-'));
  const db = openCache(cachePath(workspace));
  const writer = createObservationWriter(db);
  const random = createRandom(seed);
  const categories = ['Coffee', 'Tea', 'Dessert', 'Snacks', 'Dairy'];
  const products = [
    ...KNOWN_PRODUCTS,
    ...Array.from({ length: count - KNOWN_PRODUCTS.length }, (_, i) => {
      const n = String(i + 4).padStart(4, '0');
      return { id: `p${n}`, name: `Product ${n}`, category: categories[i % categories.length]!, price: Math.round((2 + random() * 30) * 100) / 100 };
    }),
  ];
  db.transaction(() => {
    for (const product of products) {
      const rows: CleanRow[] = [];
      let promoLeft = 0;
      let promoFactor = 1;
      let nextPromo = Math.floor(5 + random() * 40);
      for (let d = 0; d < FIXTURE_DAYS; d++) {
        if (promoLeft === 0 && d >= nextPromo) {
          promoLeft = Math.floor(4 + random() * 10);
          promoFactor = 0.7 + random() * 0.2;
          nextPromo = d + promoLeft + Math.floor(10 + random() * 40);
        }
        const onPromo = promoLeft > 0;
        if (onPromo) promoLeft--;
        const price = Math.round(product.price * (onPromo ? promoFactor : 1) * 100) / 100;
        const observedAt = new Date(START + d * 86_400_000 + 9 * 3_600_000).toISOString();
        const dropAmount = onPromo ? Math.round((product.price - price) * 100) / 100 : null;
        const dropPct = onPromo ? Math.round((10_000 * (product.price - price)) / product.price) / 100 : null;
        rows.push({
          source: 'fixture',
          product_id: product.id,
          observed_at: observedAt,
          dt: observedAt.slice(0, 10),
          title: product.name,
          category: product.category,
          price,
          old_price: onPromo ? product.price : null,
          currency: 'EUR',
          drop_amount: dropAmount,
          drop_pct: dropPct,
          is_drop: onPromo && (dropPct ?? 0) >= 5,
          drop_label: onPromo && (dropPct ?? 0) >= 5 ? 'drop' : 'no drop',
        });
      }
      writer.writeBatch(rows);
    }
    writer.flush();
  })();
  db.close();
  return workspace;
}

export interface FixtureBundle {
  workspace: string;
  modelFile: string;
  bundleFile: string;
  modelVersion: string;
  bytes: Buffer;
}

/**
 * The real path, small: fixture workspace → `trainModel` (the forecaster's training, 20 shallow
 * trees) → `publishBundle` (what `pricedrop publish` runs) → a bundle file. `seed` changes the
 * model, so two calls give two model versions (a visible swap).
 */
export async function buildFixtureBundle(seed = 1, workspace = createFixtureWorkspace()): Promise<FixtureBundle> {
  const dir = join(workspace, 'published');
  mkdirSync(dir, { recursive: true });
  const modelFile = join(workspace, 'models', `model-${seed}.json`);
  const report = await trainModel({ workspace, out: modelFile, trees: 20, maxDepth: 6, seed, threads: 1 });
  const bundleFile = join(dir, `bundle-${seed}.json.gz`);
  await publishBundle({ workspace, model: modelFile, out: parseBundleLocation(bundleFile) });
  return { workspace, modelFile, bundleFile, modelVersion: report.model_version, bytes: readFileSync(bundleFile) };
}
