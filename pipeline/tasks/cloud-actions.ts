import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { UpstreamError } from '../base/errors';
import { getMeta } from '../cache/cache-db';
import { createAwsClients, destroyAwsClients, glueNames, type AwsClients, type AwsConfig } from '../cloud/aws-config';
import { startCrawler, startJobRun, waitForCrawler, waitForJobRun } from '../cloud/glue-runs';
import { DEFAULT_PRICE_PER_TB_USD, queryCost, type QueryCost } from '../athena/athena-query';
import { parseS3Uri } from '../athena/athena-unload';
import { WATERMARK_KEY, cacheStatus, runCloudSync, syncSince, type CloudSyncSummary } from '../athena/cloud-sync';
import { readSettings } from '../settings/settings-store';
import { awsConfigFromSettings } from '../settings/aws-settings';
import type { TaskContext, TaskRun } from './task-runner';

/**
 * The Pipeline screen's AWS mode: the Glue crawl and transform, and the Athena sync into the
 * cache, each a task (progress, cancel, history). The AWS work is pipeline/cloud and
 * pipeline/athena's; this file turns the Settings (names only) into their config (settings/aws-settings.ts), creates the
 * clients at this edge, and adds the scan-cost estimate shown before a sync.
 */
export interface SyncEstimate {
  /** The day the next sync reads from (watermark minus the 24 h look-back), or null: everything. */
  since_day: string | null;
  objects: number;
  /** Bytes of the cleaned table's files in the partitions the sync reads: an upper bound of the scan. */
  bytes: number;
  cost: QueryCost;
  price_per_tb_usd: number;
}

/**
 * Estimates the next sync's Athena scan before it runs: the size of the cleaned table's files
 * (`cleaned/dt=YYYY-MM-DD/…`) in the partitions its WHERE clause keeps. The sync selects every
 * column, so Parquet's column pruning saves little: the files' size is a close upper bound.
 */
export async function estimateSyncScan(s3: S3Client, cleanedPath: string, sinceDay: string | null, pricePerTbUsd = DEFAULT_PRICE_PER_TB_USD): Promise<SyncEstimate> {
  const { bucket, key: prefix } = parseS3Uri(cleanedPath);
  let token: string | undefined;
  let bytes = 0;
  let objects = 0;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const day = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(object.Key ?? '')?.[1];
      if (sinceDay && (!day || day < sinceDay)) continue;
      bytes += object.Size ?? 0;
      objects++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { since_day: sinceDay, objects, bytes, cost: queryCost(bytes, pricePerTbUsd), price_per_tb_usd: pricePerTbUsd };
}

/** The first day the next sync reads: the day of the sync's own starting point (watermark minus its look-back). */
export function syncSinceDay(watermark: string | null, lookbackHours?: number): string | null {
  return syncSince(watermark, lookbackHours)?.slice(0, 10) ?? null;
}

export interface CloudActionOptions {
  /** Clients for a config (tests inject mocked Glue/Athena and s3rver). Default: the real ones. */
  clients?: (config: AwsConfig) => AwsClients;
  /** Glue/Athena poll delay (default 10 s; tests use 0). */
  pollMs?: number;
}

export function cloudActionHandlers(ctx: TaskContext, options: CloudActionOptions = {}) {
  const makeClients = options.clients ?? createAwsClients;
  const pollMs = options.pollMs ?? 10_000;
  /** Runs `work` with clients for `config` (read from the settings once, by the handler), destroying them afterwards. */
  async function withClients<T>(config: AwsConfig, work: (clients: AwsClients) => Promise<T>): Promise<T> {
    const clients = makeClients(config);
    try {
      return await work(clients);
    } finally {
      if (!options.clients) destroyAwsClients(clients);
    }
  }
  const elapsed = (ms: number) => `${Math.round(ms / 1000)} s`;

  return {
    /** What AWS mode will use (derived names, no credentials), the sync watermark and the cache's "data as of" per origin. */
    'cloud/status': async () => {
      const settings = readSettings(ctx.workspace);
      const names = settings.aws.bucket ? glueNames(awsConfigFromSettings(settings)) : null;
      return { configured: names !== null, names, watermark: getMeta(ctx.cache, WATERMARK_KEY) ?? null, cache: cacheStatus(ctx.cache) };
    },
    /** The next sync's estimated scan and cost, before it runs (a few S3 list calls, no Athena query). */
    'cloud/sync-estimate': async (): Promise<SyncEstimate> => {
      const config = awsConfigFromSettings(readSettings(ctx.workspace));
      try {
        return await withClients(config, (clients) => estimateSyncScan(clients.s3, glueNames(config).cleanedPath, syncSinceDay(getMeta(ctx.cache, WATERMARK_KEY) ?? null)));
      } catch (error) {
        // S3 refused (credentials, permissions, no such bucket) or did not answer: its reason, as a 502.
        throw new UpstreamError(`S3 could not list ${glueNames(config).cleanedPath}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
      }
    },
    /** Runs the Glue crawler over the raw files (a running crawl is joined); fails with Glue's own message. */
    'cloud/crawl': async (): Promise<TaskRun> => {
      const config = awsConfigFromSettings(readSettings(ctx.workspace));
      const name = glueNames(config).crawler;
      return ctx.tasks.start('crawl', `Glue crawler ${name}`, (task) =>
        withClients(config, async (clients) => {
          const start = await startCrawler(clients.glue, name);
          task.progress(0, undefined, start.started ? 'crawl started' : 'a crawl was already running: joined it');
          const result = await waitForCrawler(clients.glue, name, start, { pollMs, signal: task.signal, onPoll: (state, ms) => task.progress(Math.round(ms / 1000), undefined, `${state} · ${elapsed(ms)}`) });
          return { crawler: name, status: result.status, joined: !start.started, tables_created: result.metrics?.TablesCreated ?? null, tables_updated: result.metrics?.TablesUpdated ?? null };
        }),
      );
    },
    /** Runs the Glue cleaning job over new raw files (bookmarked), waiting for its final state. */
    'cloud/transform': async (): Promise<TaskRun> => {
      const config = awsConfigFromSettings(readSettings(ctx.workspace));
      const name = glueNames(config).job;
      return ctx.tasks.start('transform', `Glue job ${name}`, (task) =>
        withClients(config, async (clients) => {
          const start = await startJobRun(clients.glue, name);
          task.progress(0, undefined, start.started ? `run ${start.runId} started` : `run ${start.runId} was already running: joined it`);
          const run = await waitForJobRun(clients.glue, name, start.runId, { pollMs, signal: task.signal, onPoll: (state, ms) => task.progress(Math.round(ms / 1000), undefined, `${state} · ${elapsed(ms)}`) });
          return { job: name, run_id: start.runId, state: run.JobRunState ?? null, execution_time_s: run.ExecutionTime ?? null };
        }),
      );
    },
    /** Copies the cleaned rows newer than the watermark from Athena into the cache; alerts are evaluated after it. */
    'cloud/sync': async (): Promise<TaskRun> => {
      const settings = readSettings(ctx.workspace);
      const config = awsConfigFromSettings(settings);
      const names = glueNames(config);
      return ctx.tasks.start('sync', `Athena sync from ${config.database}.${names.cleanedTable}`, (task) =>
        withClients(config, async (clients): Promise<CloudSyncSummary> => {
          const summary = await runCloudSync({
            cache: ctx.cache,
            athena: clients.athena,
            s3: clients.s3,
            target: { workgroup: config.workgroup, database: config.database, outputLocation: settings.aws.athenaOutput || names.athenaResultsPath },
            table: names.cleanedTable,
            unloadPrefix: names.athenaUnloadPath,
            wait: { signal: task.signal, ...(options.pollMs !== undefined ? { pollDelayMs: Math.max(1, pollMs), maxPollDelayMs: Math.max(1, pollMs) } : {}) },
            onProgress: (label, done, total) => task.progress(done, total, label),
          });
          task.progress(1, 1, `${summary.inserted} new rows via ${summary.mode}; scanned ${(summary.bytes_scanned / 1e6).toFixed(1)} MB, $${summary.cost_usd.toFixed(4)}`);
          if (summary.inserted > 0) ctx.events.emit('data/changed', { origin: 'athena', rows: summary.inserted, at: new Date().toISOString() });
          return summary;
        }),
      );
    },
  };
}
