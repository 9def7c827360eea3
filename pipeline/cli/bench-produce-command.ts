import { benchProduce } from '../../producer/bench-produce';
import { numberFlag, type Command } from '../base/command-line';

/** `pricedrop bench produce`: producer throughput to the local lake and to loopback S3, and peak memory. */
export const benchProduceCommand: Command = {
  name: 'bench produce',
  summary: 'Measure producer throughput to the local lake and a loopback S3 server, and peak memory',
  usage: `Usage: pricedrop bench produce [--records N] [--s3-records N] [--products N] [--batch-size N] [--json]

Runs the simulator's backfill through the whole producer path (batch, CSV, spool, upload) into a
temporary local lake, then into s3rver on 127.0.0.1 (a child process). Prints
{"local_records_per_s","s3_records_per_s","peak_rss_mb",...} with --json; local_rss_mb_by_tenth
shows whether memory stays flat over the local run. Targets: 100,000 rec/s local, 20,000 rec/s S3.

  --records N      records to the local lake (default 1000000)
  --s3-records N   records to S3 (default 200000)
  --products N     simulated products (default 10000)
  --batch-size N   records per batch (default 10000)`,
  async run(args, io) {
    const result = await benchProduce({
      localRecords: numberFlag(args, 'records', 1_000_000, { min: 1000, integer: true }),
      s3Records: numberFlag(args, 's3-records', 200_000, { min: 1000, integer: true }),
      products: numberFlag(args, 'products', 10_000, { min: 1, integer: true }),
      batchSize: numberFlag(args, 'batch-size', 10_000, { min: 1, integer: true }),
      onProgress: (label, done, total) => io.progress(label, done, total),
    });
    if (args.switches.has('json')) io.json(result);
    else io.out(`local lake: ${result.local_records_per_s} records/s; loopback S3: ${result.s3_records_per_s} records/s; peak RSS ${result.peak_rss_mb} MB`);
  },
};
