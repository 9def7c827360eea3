import { readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { openWorkspaceCache } from './workspace-cache';
import { defaultModelPath, parseModel } from '../../model/predictor';
import { productStates } from './cache-predictions';
import { encodeBundle, type PricePoint, type PublishedProduct } from '../../model/bundle/bundle-format';
import { describeLocation, storeBundle, type BundleLocation } from '../../model/bundle/bundle-source';

export interface PublishOptions {
  workspace: string;
  /** The model file (default: the workspace's current model). */
  model?: string;
  out: BundleLocation;
  s3?: S3Client;
  /** Days of price history kept per product (default 180). */
  historyDays?: number;
  onProgress?: (done: number) => void;
}

export interface PublishReport {
  out: string;
  model_version: string;
  products: number;
  /** Products left out because another source has the same id and was seen more recently. */
  duplicate_ids: number;
  bytes: number;
  sha256: string;
  /** S3 ETag of the stored object, or null for a file. */
  etag: string | null;
  publish_ms: number;
}

/**
 * Builds the server's bundle from the desktop's workspace: the model file as it is, plus every
 * product's latest feature state and recent history (the forecaster's `productStates`, the same
 * features `pricedrop predict` computes), then stores it. Product ids are the cache's product_id;
 * when two sources share one, the more recently seen wins, as in `pricedrop predict --product`.
 */
export async function publishBundle(options: PublishOptions): Promise<PublishReport> {
  const started = performance.now();
  const modelFile = options.model ?? defaultModelPath(options.workspace);
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(readFileSync(modelFile, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the model ${modelFile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (train one first: pricedrop train)' : (error as Error).message}`, { cause: error });
  }
  const model = parseModel(modelJson);
  const byId = new Map<string, { product: PublishedProduct; seen: string }>();
  let duplicates = 0;
  const db = openWorkspaceCache(options.workspace);
  try {
    let done = 0;
    for (const state of productStates(db, model, { historyDays: options.historyDays ?? 180 })) {
      const history: PricePoint[] = state.history.map((segment) => [segment.t, segment.price]);
      // The last price holds until the data's "now": end the step line there.
      if (history.length > 0 && history[history.length - 1]![0] < state.as_of) history.push([state.as_of, state.last_price]);
      const product: PublishedProduct = {
        id: state.product_id,
        name: state.title,
        category: state.category,
        currency: state.currency,
        price: state.last_price,
        old_price: state.old_price,
        last_observed_at: state.last_observed_at,
        source: state.source,
        as_of: state.as_of,
        features: state.features,
        history,
      };
      const existing = byId.get(product.id);
      if (existing) {
        duplicates++;
        if (existing.seen >= state.last_observed_at) continue;
      }
      byId.set(product.id, { product, seen: state.last_observed_at });
      if (++done % 1000 === 0) options.onProgress?.(done);
    }
  } finally {
    db.close();
  }
  const products = [...byId.values()].map((entry) => entry.product);
  const version = model.meta.model_version;
  const { bytes, header } = encodeBundle({ created_at: new Date().toISOString(), model: modelJson, products }, version);
  const stored = await storeBundle(options.out, bytes, options.s3);
  return {
    out: describeLocation(options.out),
    model_version: version,
    products: products.length,
    duplicate_ids: duplicates,
    bytes: bytes.length,
    sha256: header.sha256,
    etag: options.out.kind === 's3' ? stored : null,
    publish_ms: Math.round(performance.now() - started),
  };
}
