import { numberFlag, requiredFlag, stringFlag, workspaceOf, type Command } from '../base/command-line';
import { createS3Client, parseBundleLocation } from '../../model/bundle/bundle-source';
import { publishBundle } from '../forecasting/publish-bundle';

/** `pricedrop publish`: the model bundle for the headless server (model + latest features + recent history). */
export const publishCommand: Command = {
  name: 'publish',
  summary: 'Write the model bundle the headless server serves (to a file or s3://)',
  usage: `Usage: pricedrop publish --out FILE|s3://BUCKET/KEY [--workspace DIR] [--model FILE] [--s3-endpoint URL] [--json]

Packs the trained model with every product's latest feature state and recent price history from
the workspace's cache into one checksummed gzip bundle, so "pricedrop serve" needs no database.
A server watching the same file or S3 object swaps the new bundle in without a restart.

Options:
  --out FILE|s3://BUCKET/KEY  where to write the bundle (a file is written atomically)
  --model FILE           the model file (default: the workspace's models/current.json)
  --history-days N       days of price history kept per product (default 180)
  --s3-endpoint URL      an S3-compatible endpoint (path-style), e.g. s3rver; default: AWS
  --json                 print {"out","model_version","products","duplicate_ids","bytes","sha256","etag","publish_ms"}
S3 access uses the standard AWS credential chain.`,
  async run(args, io) {
    const out = parseBundleLocation(requiredFlag(args, 'out'));
    const s3 = out.kind === 's3' ? createS3Client(stringFlag(args, 's3-endpoint')) : undefined;
    try {
      const report = await publishBundle({
        workspace: workspaceOf(args),
        model: stringFlag(args, 'model'),
        out,
        s3,
        historyDays: numberFlag(args, 'history-days', 180, { min: 1, max: 3650, integer: true }),
        onProgress: (done) => io.progress('products', done),
      });
      if (args.switches.has('json')) io.json(report);
      else io.out(`Published ${report.products} products with model ${report.model_version} to ${report.out} (${(report.bytes / 1024).toFixed(0)} KiB)`);
    } finally {
      s3?.destroy();
    }
  },
};
