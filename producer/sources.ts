import { createBestBuySource } from './bestbuy-source';
import { createDummyJsonSource } from './dummyjson-source';
import { createFakeStoreSource } from './fakestore-source';
import { createReplaySource } from './replay-source';
import { createShopifySource } from './shopify-source';
import { createSimulatorSource } from './simulator';
import type { Source } from './source';

export const SOURCE_NAMES = ['simulator', 'dummyjson', 'fakestore', 'shopify', 'bestbuy', 'replay'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** The options of every source; each reads its own. */
export interface SourceOptions {
  source: SourceName;
  /** Simulator: number of products (default 300), seed (default 1), backfill days (default 0). */
  products?: number;
  seed?: number;
  backfillDays?: number;
  /** Seconds between simulator ticks (default 60) or API polls (default 300). */
  intervalSeconds?: number;
  /** API sources: base URL (default: the public API), page size, parallel page requests, requests/s per host. */
  url?: string;
  pageSize?: number;
  concurrency?: number;
  ratePerSecond?: number;
  timeoutMs?: number;
  /** Retries per request on 429/5xx/timeouts before the poll gives up on that page. */
  maxRetries?: number;
  /** Currency of API prices that carry none (DummyJSON, Fake Store, Shopify, Best Buy). Default USD. */
  currency?: string;
  /** API sources: one pass through the catalogue, then stop. */
  once?: boolean;
  /** Best Buy: the search expression inside `/v1/products(...)`, e.g. `categoryPath.id=abcat0502000`. */
  query?: string;
  /** Best Buy: the environment variable holding the API key (default BESTBUY_API_KEY). */
  apiKeyEnv?: string;
  /** Replay: a CSV file or folder, the column map, date from file name, speed factor. */
  file?: string;
  map?: string;
  dateFromFilename?: boolean;
  speed?: number;
  /** Replay: the source name for files without a source column (default 'replay'). */
  sourceName?: string;
}

export interface SourceEnvironment {
  workspace: string;
  /** The sink's id: checkpoints are per (source input, sink). */
  sinkId: string;
}

export function createSource(options: SourceOptions, environment: SourceEnvironment): Source {
  switch (options.source) {
    case 'simulator':
      return createSimulatorSource({
        products: options.products ?? 300,
        seed: options.seed ?? 1,
        intervalSeconds: options.intervalSeconds ?? 60,
        backfillDays: options.backfillDays ?? 0,
      });
    case 'replay':
      if (!options.file) throw new Error('--source replay needs --file PATH');
      return createReplaySource({
        file: options.file,
        map: options.map,
        dateFromFilename: options.dateFromFilename,
        speed: options.speed,
        currency: options.currency,
        sourceName: options.sourceName,
        workspace: environment.workspace,
        sinkId: environment.sinkId,
      });
    case 'dummyjson':
      return createDummyJsonSource(options);
    case 'fakestore':
      return createFakeStoreSource(options, environment);
    case 'shopify':
      return createShopifySource(options);
    case 'bestbuy':
      return createBestBuySource(options);
    default:
      throw new Error(`unknown source ${String(options.source)}`);
  }
}
