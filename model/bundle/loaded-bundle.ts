import { BundleError, checkHistories, decodeBundleAsync, type BundleHeader, type BundleProduct } from './bundle-format';
import { createServingModel } from '../server/predictor-adapter';
import type { ServingModel } from '../server/serving-model';

/** A bundle ready to serve: checked, its model built, its products indexed. Immutable once built. */
export interface LoadedBundle {
  header: BundleHeader;
  createdAt: number;
  loadedAt: number;
  /** S3 ETag or file mtime+size: what the watcher compares to notice a new bundle. */
  tag: string;
  model: ServingModel;
  products: ReadonlyMap<string, BundleProduct>;
  search(query: string, limit: number): BundleProduct[];
  /** The product's price history as JSON text (`[[time, price], …]`), straight from the bundle. */
  historyJson(product: BundleProduct): string;
  /** The JSON answer of POST /api/predict for a product of the bundle (memoised, see below). */
  predictionJson(product: BundleProduct): string;
}

/**
 * A bundle never changes once loaded, so a known product's prediction is computed once and its
 * JSON kept: `predictFromFeatures` plus JSON.stringify cost ~80 µs (100 + 50 trees, reasons),
 * more than the whole HTTP exchange, and memoising lifts the server from 0.39× to ~0.75× a bare
 * node:http server's requests/s (pricedrop bench serve). `precomputePredictions` fills the memo
 * before a bundle is served. Bounded: past MAX_MEMOISED products (~700 bytes each) answers are
 * computed per request.
 */
const MAX_MEMOISED = 50_000;

/**
 * Decodes, checks and prepares a bundle; rejects with BundleError for anything unusable. The
 * event loop is blocked only for the payload's parse and the model's build (~150 ms for 15,701
 * products); decompression, checksum and the history check run off it or in slices.
 */
export async function loadBundle(bytes: Buffer | Uint8Array, tag: string): Promise<LoadedBundle> {
  const { header, payload, histories } = await decodeBundleAsync(bytes);
  let model: ServingModel;
  try {
    model = createServingModel(payload.model, payload.products);
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`the bundle's model is unusable (${(error as Error).message})`);
  }
  await checkHistories(histories);
  const products = new Map(payload.products.map((p) => [p.id, p]));
  const lineOf = new Map(payload.products.map((p, i) => [p.id, i]));
  const memo = new Map<string, string>();
  const predictionJson = (product: BundleProduct): string => {
    let text = memo.get(product.id);
    if (text === undefined) {
      text = JSON.stringify(model.predictProduct(product));
      if (memo.size < MAX_MEMOISED) memo.set(product.id, text);
    }
    return text;
  };
  return {
    header,
    createdAt: Date.parse(payload.created_at),
    loadedAt: Date.now(),
    tag,
    model,
    products,
    search: createProductSearch(payload.products),
    historyJson: (product) => histories.text(lineOf.get(product.id)!),
    predictionJson,
  };
}

/**
 * Search by id or name, case- and accent-insensitive. Ranked: exact id, id prefix, name prefix,
 * a word of the name starting with the query, then any substring; by name within a rank. The
 * entries are sorted by name once, so a query is one linear scan with no sort: each rank keeps its
 * first `limit` hits. On the Pick n Pay bundle (15,701 products) a one-letter query took 6.9 ms
 * when all hits were sorted per query, 1.6 ms this way (any query: 1–1.6 ms).
 */
export function createProductSearch(products: readonly BundleProduct[]): (query: string, limit: number) => BundleProduct[] {
  const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
  const entries = products
    .map((product) => ({ product, id: fold(product.id), name: fold(product.name) }))
    .sort((a, b) => collator.compare(a.product.name, b.product.name));
  return (query, limit) => {
    const q = fold(query).trim();
    if (q === '') return [];
    const ranks: BundleProduct[][] = [[], [], [], [], []];
    for (const entry of entries) {
      const rank = rankOf(entry.id, entry.name, q);
      if (rank >= 0 && ranks[rank]!.length < limit) ranks[rank]!.push(entry.product);
    }
    return ranks.flat().slice(0, limit);
  };
}

function rankOf(id: string, name: string, q: string): number {
  if (id === q) return 0;
  if (id.startsWith(q)) return 1;
  if (name.startsWith(q)) return 2;
  let inName = false;
  for (let at = name.indexOf(q, 1); at > 0; at = name.indexOf(q, at + 1)) {
    inName = true;
    if (!/[\p{L}\p{N}]/u.test(name[at - 1]!)) return 3;
  }
  return inName || id.includes(q) ? 4 : -1;
}

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * Computes every product's answer ahead of serving (up to MAX_MEMOISED), in slices of at most
 * `sliceMs` so that, during a hot swap, the bundle still being served keeps answering in between.
 * Returns how many products were computed.
 */
export async function precomputePredictions(bundle: LoadedBundle, sliceMs = 10): Promise<number> {
  let done = 0;
  let sliceStart = performance.now();
  for (const product of bundle.products.values()) {
    if (done >= MAX_MEMOISED) break;
    bundle.predictionJson(product);
    done++;
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return done;
}
