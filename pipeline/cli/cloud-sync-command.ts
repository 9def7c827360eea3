import { numberFlag, stringFlag, UsageError, workspaceOf, type Command } from '../base/command-line';
import { AWS_USAGE, awsConfigFromArgs, createAwsClients, describeAwsConfig, destroyAwsClients, glueNames } from '../cloud/aws-config';
import { cachePath, logMigrations, openCache } from '../cache/cache-db';
import { runCloudSync } from '../athena/cloud-sync';
import { DEFAULT_PRICE_PER_TB_USD } from '../athena/athena-query';

export const cloudSyncCommand: Command = {
  name: 'cloud sync',
  summary: 'Pull cleaned rows newer than the watermark from Athena into the local cache (atomic)',
  usage: `Usage: pricedrop cloud sync [--workspace DIR] [AWS options] [--mode auto|paged|unload] [--price-per-tb USD] [--json]

Queries the Glue job's cleaned table through Athena for rows newer than the cache's watermark
(minus --lookback-hours, for late rows), downloads them (paging GetQueryResults for small
results, UNLOAD to Parquet for large ones) and writes them into DIR/cache.db in one transaction
with the new watermark. A sync killed at any point leaves the previous cache intact; the next
sync completes it. Progress goes to stderr; "data as of" is recorded per origin.

  --workspace DIR        the workspace (default: $PRICEDROP_HOME or the per-user data folder)
  --mode M               auto (default: UNLOAD above --unload-threshold rows), paged or unload
  --unload-threshold N   rows above which auto uses UNLOAD (default 20000)
  --lookback-hours H     re-read this far before the watermark (default 24)
  --price-per-tb USD     Athena price per TB scanned, for the cost report (default ${DEFAULT_PRICE_PER_TB_USD})
  --json                 print {"mode","fetched","inserted","duplicates","invalid","watermark_before","watermark_after","bytes_scanned","cost_usd"}

${AWS_USAGE}`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const config = awsConfigFromArgs(args);
    const mode = stringFlag(args, 'mode', 'auto');
    if (mode !== 'auto' && mode !== 'paged' && mode !== 'unload') throw new UsageError(`--mode must be auto, paged or unload, got "${mode}"`);
    const unloadThreshold = numberFlag(args, 'unload-threshold', 20_000, { min: 0, integer: true });
    const lookbackHours = numberFlag(args, 'lookback-hours', 24, { min: 0 });
    const pricePerTbUsd = numberFlag(args, 'price-per-tb', DEFAULT_PRICE_PER_TB_USD, { min: 0 });
    const names = glueNames(config);
    io.log(`cloud sync: ${describeAwsConfig(config)}, workgroup ${config.workgroup}`);
    const clients = createAwsClients(config);
    const cache = openCache(cachePath(workspace), logMigrations(io.log));
    try {
      const summary = await runCloudSync({
        cache,
        athena: clients.athena,
        s3: clients.s3,
        target: { workgroup: config.workgroup, database: config.database, outputLocation: names.athenaResultsPath },
        table: names.cleanedTable,
        unloadPrefix: names.athenaUnloadPath,
        mode,
        unloadThreshold,
        lookbackHours,
        pricePerTbUsd,
        onProgress: (label, done, total) => io.progress(label, done, total),
      });
      if (args.switches.has('json')) io.json(summary);
      else {
        io.out(
          `${summary.inserted} new rows (${summary.duplicates} already cached, ${summary.invalid} invalid) via ${summary.mode}; ` +
            `watermark ${summary.watermark_after ?? 'none'}; scanned ${(summary.bytes_scanned / 1e6).toFixed(1)} MB, $${summary.cost_usd.toFixed(4)}`,
        );
      }
    } finally {
      cache.close();
      destroyAwsClients(clients);
    }
  },
};
