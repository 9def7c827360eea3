import { writeFileSync } from 'node:fs';
import { encodeBundle, type BundlePayload, type BundleProduct } from '../../model/bundle/bundle-format';
import { DEFAULT_FOREST_OPTIONS, serializeForest, trainForestSync, type TrainingData } from '../../model/forest/random-forest';
import { binColumns } from '../../model/forest/binning';

export const FIXTURE_FEATURES = ['price', 'drop_pct', 'rel_mean_30'];

/** Named products the tests look up; the rest are generated ("Product 0007" …). */
export const KNOWN_PRODUCTS = [
  { id: 'coffee-1kg', name: 'Ristretto Coffee Beans 1 kg', category: 'Coffee', price: 14.99, old_price: 19.99 },
  { id: 'tea-100', name: 'Earl Grey Tea 100 bags', category: 'Tea', price: 4.5, old_price: null },
  { id: 'crème-brûlée', name: 'Crème brûlée dessert pots', category: 'Dessert', price: 3.25, old_price: 3.25 },
];

/**
 * A tiny valid bundle: a small forest on three synthetic features and `count` products with
 * 120 days of history each. `version` names the model, so a swap is visible in /health.
 */
export function fixturePayload(version = 'fixture-1', count = 50): { payload: BundlePayload; version: string } {
  const rows = 400;
  const columns = FIXTURE_FEATURES.map(() => new Float64Array(rows));
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    columns[0]![i] = 1 + (i % 37);
    columns[1]![i] = (i * 7) % 30;
    columns[2]![i] = 0.8 + ((i * 13) % 40) / 100;
    y[i] = columns[2]![i]! > 1 ? 1 : 0;
  }
  const binned = binColumns(rows, FIXTURE_FEATURES.length, (f) => columns[f]!);
  const data: TrainingData = { rows, features: FIXTURE_FEATURES.length, bins: binned.bins, edges: binned.edges, y };
  const forest = trainForestSync(data, { ...DEFAULT_FOREST_OPTIONS, trees: 8, maxDepth: 4 });
  const products: BundleProduct[] = [];
  const all = [...KNOWN_PRODUCTS, ...Array.from({ length: count - KNOWN_PRODUCTS.length }, (_, i) => ({ id: `p${String(i + 4).padStart(4, '0')}`, name: `Product ${String(i + 4).padStart(4, '0')}`, category: 'Misc', price: 2 + (i % 20), old_price: null }))];
  all.forEach((p, index) => {
    const history: [string, number][] = [];
    for (let d = 0; d < 120; d++) {
      const day = new Date(Date.UTC(2026, 6, 1) + d * 86_400_000).toISOString().slice(0, 10);
      history.push([day, Math.round((p.price * (1 + 0.1 * Math.sin((d + index) / 9))) * 100) / 100]);
    }
    products.push({
      ...p,
      currency: 'EUR',
      last_observed_at: '2026-10-28T12:00:00.000Z',
      features: [p.price, p.old_price ? (100 * (p.old_price - p.price)) / p.old_price : 0, 0.8 + (index % 5) / 10],
      history,
    });
  });
  const model = { version, feature_names: FIXTURE_FEATURES, forest: serializeForest(forest), options: { horizon_days: 14, min_drop_pct: 5 }, metrics: { auc: 0.9 } };
  return { payload: { created_at: '2026-10-29T00:00:00.000Z', model, products }, version };
}

export function fixtureBundleBytes(version = 'fixture-1', count = 50): Buffer {
  const { payload } = fixturePayload(version, count);
  return encodeBundle(payload, version);
}

export function writeFixtureBundle(path: string, version = 'fixture-1', count = 50): string {
  writeFileSync(path, fixtureBundleBytes(version, count));
  return path;
}
