import { createS3Client, describeLocation, fetchBundle, parseBundleLocation, watchBundle, type BundleWatcher } from '../bundle/bundle-source';
import { precomputePredictions } from '../bundle/loaded-bundle';
import { startPredictServer, type PredictServer } from './predict-server';

export interface ServeOptions {
  /** FILE or s3://BUCKET/KEY */
  bundle: string;
  host: string;
  port: number;
  apiKey?: string;
  corsOrigins?: string[];
  s3Endpoint?: string;
  /** Seconds between checks for a new bundle (S3 ETag, or file size+mtime); 0 = never. */
  pollSeconds: number;
  rateLimit: { perSecond: number; burst: number };
  /** Rate-limit by the last X-Forwarded-For entry (behind a load balancer). */
  trustProxy?: boolean;
  /** Log one line per request. */
  accessLog?: boolean;
  log(message: string): void;
}

export interface RunningServer {
  http: PredictServer;
  watcher: BundleWatcher | undefined;
  stop(graceMs?: number): Promise<void>;
}

/** Loads the bundle (refusing to start on a broken one), serves it, and watches for a new one. */
export async function startServing(options: ServeOptions): Promise<RunningServer> {
  const location = parseBundleLocation(options.bundle);
  const s3 = location.kind === 's3' ? createS3Client(options.s3Endpoint) : undefined;
  const bundle = await fetchBundle(location, s3);
  options.log(`bundle ${describeLocation(location)}: model ${bundle.model.version}, ${bundle.products.size} products, created ${new Date(bundle.createdAt).toISOString()}`);
  const started = performance.now();
  const computed = await precomputePredictions(bundle);
  options.log(`precomputed ${computed} predictions in ${Math.round(performance.now() - started)} ms`);
  let watcher: BundleWatcher | undefined;
  const http = await startPredictServer({
    bundle,
    host: options.host,
    port: options.port,
    apiKey: options.apiKey,
    corsOrigins: options.corsOrigins,
    rateLimit: options.rateLimit,
    trustProxy: options.trustProxy,
    accessLog: options.accessLog,
    log: options.log,
    health: () => {
      const refusal = watcher?.lastRefusal();
      return refusal ? { last_refused_bundle: refusal } : {};
    },
  });
  if (options.pollSeconds > 0) {
    watcher = watchBundle({
      location,
      s3,
      currentTag: bundle.tag,
      intervalMs: options.pollSeconds * 1000,
      prepare: async (next) => void (await precomputePredictions(next)),
      onBundle: (next) => http.swap(next),
      log: options.log,
    });
  }
  return {
    http,
    watcher,
    async stop(graceMs) {
      watcher?.stop();
      await http.close(graceMs);
      s3?.destroy();
    },
  };
}
