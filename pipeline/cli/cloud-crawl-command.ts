import { numberFlag, type Command } from '../base/command-line';
import { AWS_USAGE, awsConfigFromArgs, createAwsClients, destroyAwsClients, glueNames } from '../cloud/aws-config';
import { startCrawler, waitForCrawler } from '../cloud/glue-runs';

export const cloudCrawlCommand: Command = {
  name: 'cloud crawl',
  summary: 'Run the Glue crawler over the raw lake and wait for it',
  usage: `Usage: pricedrop cloud crawl --bucket NAME [AWS options] [--poll-seconds S] [--timeout-minutes M] [--json]

Starts the crawler (joins the crawl already running, if any), waits for it with progress, and
fails with Glue's own message when the crawl ends FAILED or CANCELLED.

${AWS_USAGE}
  --poll-seconds S     delay between status polls (default 10)
  --timeout-minutes M  stop waiting after M minutes (default 120; the crawl goes on in AWS)
  --json               print {"crawler","state","already_running","elapsed_s","tables_created","tables_updated"}`,
  async run(args, io) {
    const config = awsConfigFromArgs(args);
    const pollMs = numberFlag(args, 'poll-seconds', 10, { min: 0 }) * 1000;
    const timeoutMs = numberFlag(args, 'timeout-minutes', 120, { min: 0 }) * 60_000;
    const clients = createAwsClients(config);
    const name = glueNames(config).crawler;
    try {
      const start = await startCrawler(clients.glue, name);
      io.log(start.started ? `crawler ${name} started` : `crawler ${name} was already running: waiting for that crawl`);
      const started = Date.now();
      const result = await waitForCrawler(clients.glue, name, start, { pollMs, timeoutMs, onPoll: (state, elapsed) => io.progress(`crawler ${name} ${state}`, Math.round(elapsed / 1000)) });
      const report = {
        crawler: name,
        state: result.status,
        already_running: !start.started,
        elapsed_s: Math.round((Date.now() - started) / 1000),
        tables_created: result.metrics?.TablesCreated ?? null,
        tables_updated: result.metrics?.TablesUpdated ?? null,
      };
      if (args.switches.has('json')) io.json(report);
      else io.out(`crawler ${name}: ${result.status}`);
    } finally {
      destroyAwsClients(clients);
    }
  },
};
