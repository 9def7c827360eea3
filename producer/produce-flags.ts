import { UsageError, numberFlag, type ParsedArgs } from '../pipeline/base/command-line';
import type { ProducerOptions } from './run-producer';
import { SOURCE_NAMES, type SourceName } from './sources';

/** Switches (flags without a value) of `pricedrop produce` and the container's entry point. */
export const PRODUCE_BOOLEAN_FLAGS = ['once', 'date-from-filename'] as const;

export const PRODUCE_USAGE = `Usage: pricedrop produce --source simulator|dummyjson|fakestore|shopify|bestbuy|replay [options]

Reads prices from a source and writes CSV batches (product_id,title,category,price,old_price,
currency,source,observed_at) to price-stream/dt=YYYY-MM-DD/<key>.csv in a lake folder or S3.
Every batch goes through an on-disk spool first: kill it at any moment and run the same command
again, nothing is lost. SIGTERM seals the open batch, delivers it and exits 0.

Output:
  --sink DIR|s3://BUCKET/PREFIX  where batches go (default <workspace>/lake)
  --s3-endpoint URL            an S3-compatible endpoint (path-style); credentials: AWS chain/profile
  --s3-region REGION           default $AWS_REGION or us-east-1
  --batch-size N               records per batch (default 10000)
  --batch-age-ms N             seal a batch this old (default 5000)
  --spool-max-mb N             pause the source above this spool size (default 512)
  --upload-concurrency N       parallel uploads (default 4)
  --max-records N              stop after N records are delivered
  --json                       print {"records","batches","bytes","rejected","retries"} at the end

Simulator (--source simulator, the default market):
  --products N                 products (default 300)      --seed N   (default 1)
  --backfill-days N            emit N days of history first (default 0)
  --interval S                 seconds between observations (default 60; fractions allowed)

API sources (dummyjson, fakestore, shopify, bestbuy):
  --url URL                    base URL (default the public API; required for shopify)
  --interval S                 seconds between polls (default 300)   --once   one pass, then stop
  --page-size N                items per page          --concurrency N   parallel page requests (default 2)
  --rate N                     requests per second per host (default 2)
  --timeout-ms N               per request (default 15000)   --max-retries N  (default 5)
  --currency CODE              currency of the prices (default USD)
  --query EXPR                 Best Buy search, e.g. "categoryPath.id=abcat0502000"
  --api-key-env NAME           Best Buy key variable (default BESTBUY_API_KEY; never logged)

Replay (--source replay):
  --file PATH                  a price-history CSV file or a folder of them (replayed in name order)
  --map FIELD=COLUMN,...       as pricedrop import: map raw fields to the file's columns; FIELD=const:VALUE
                               for a constant; no product_id column: a stable id from the title
  --date-from-filename         take observed_at from a YYYY-MM-DD in the file name
  --currency CODE              currency for files without a currency column (e.g. ZAR)
  --source-name NAME           source for files without a source column (default replay)
  --speed X                    replay X times faster than the recorded time (default: as fast as the sink takes it)

  --workspace DIR              spool, checkpoints, rejected.jsonl (default: the per-user data folder)`;

/** Turns parsed CLI flags into producer options (shared by the CLI and the container entry point). */
export function producerOptionsFromArgs(args: ParsedArgs, workspace: string): ProducerOptions {
  const source = (args.flags.get('source') ?? 'simulator') as SourceName;
  if (!SOURCE_NAMES.includes(source)) throw new UsageError(`--source must be one of ${SOURCE_NAMES.join(', ')}, got "${source}"`);
  const optionalNumber = (name: string, range: { min?: number; max?: number; integer?: boolean } = {}) =>
    args.flags.has(name) ? numberFlag(args, name, 0, range) : undefined;
  const options: ProducerOptions = {
    source,
    workspace,
    sink: args.flags.get('sink'),
    s3Endpoint: args.flags.get('s3-endpoint'),
    s3Region: args.flags.get('s3-region'),
    batchSize: optionalNumber('batch-size', { min: 1, integer: true }),
    batchAgeMs: optionalNumber('batch-age-ms', { min: 1 }),
    spoolMaxMb: optionalNumber('spool-max-mb', { min: 1 }),
    uploadConcurrency: optionalNumber('upload-concurrency', { min: 1, max: 64, integer: true }),
    maxRecords: optionalNumber('max-records', { min: 1, integer: true }),
    products: optionalNumber('products', { min: 1, max: 1_000_000, integer: true }),
    seed: optionalNumber('seed', { integer: true }),
    backfillDays: optionalNumber('backfill-days', { min: 0, max: 3650, integer: true }),
    intervalSeconds: optionalNumber('interval', { min: 0.01 }),
    url: args.flags.get('url'),
    pageSize: optionalNumber('page-size', { min: 1, max: 1000, integer: true }),
    concurrency: optionalNumber('concurrency', { min: 1, max: 32, integer: true }),
    ratePerSecond: optionalNumber('rate', { min: 0.01 }),
    timeoutMs: optionalNumber('timeout-ms', { min: 1 }),
    maxRetries: optionalNumber('max-retries', { min: 0, max: 100, integer: true }),
    currency: args.flags.get('currency'),
    once: args.switches.has('once'),
    query: args.flags.get('query'),
    apiKeyEnv: args.flags.get('api-key-env'),
    file: args.flags.get('file'),
    map: args.flags.get('map'),
    dateFromFilename: args.switches.has('date-from-filename'),
    speed: optionalNumber('speed', { min: 0.000001 }),
    sourceName: args.flags.get('source-name'),
  };
  if (source === 'replay' && !options.file) throw new UsageError('--source replay needs --file PATH');
  if (source === 'shopify' && !options.url) throw new UsageError('--source shopify needs --url https://STORE (the storefront serving /products.json)');
  if (options.s3Endpoint && !options.sink?.startsWith('s3://')) throw new UsageError('--s3-endpoint only applies to an s3:// sink');
  return options;
}

/** The inverse of `producerOptionsFromArgs`: CLI flags for options (without --workspace), e.g. for a container or child process. */
export function producerArgs(options: Omit<ProducerOptions, 'workspace' | 'sinkInstance'>): string[] {
  const args: string[] = ['--source', options.source];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') args.push(`--${flag}`, String(value));
  };
  add('sink', options.sink);
  add('s3-endpoint', options.s3Endpoint);
  add('s3-region', options.s3Region);
  add('batch-size', options.batchSize);
  add('batch-age-ms', options.batchAgeMs);
  add('spool-max-mb', options.spoolMaxMb);
  add('upload-concurrency', options.uploadConcurrency);
  add('max-records', options.maxRecords);
  add('products', options.products);
  add('seed', options.seed);
  add('backfill-days', options.backfillDays);
  add('interval', options.intervalSeconds);
  add('url', options.url);
  add('page-size', options.pageSize);
  add('concurrency', options.concurrency);
  add('rate', options.ratePerSecond);
  add('timeout-ms', options.timeoutMs);
  add('max-retries', options.maxRetries);
  add('currency', options.currency);
  add('query', options.query);
  add('api-key-env', options.apiKeyEnv);
  add('file', options.file);
  add('map', options.map);
  add('speed', options.speed);
  add('source-name', options.sourceName);
  if (options.once) args.push('--once');
  if (options.dateFromFilename) args.push('--date-from-filename');
  return args;
}
