import { type Command } from '../base/command-line';
import { AWS_USAGE, awsConfigFromArgs, createAwsClients, describeAwsConfig, destroyAwsClients } from '../cloud/aws-config';
import { CLOUD_SETUP_STEPS, defaultGlueDir, runCloudSetup } from '../cloud/cloud-setup';
import { ATHENA_SETUP_STEPS } from '../athena/athena-setup-steps';

export const cloudSetupCommand: Command = {
  name: 'cloud setup',
  summary: 'Create or update the AWS side: bucket, Glue scripts, database, crawler, job, tables',
  usage: `Usage: pricedrop cloud setup --bucket NAME [AWS options] [--json]

Idempotent: every step gets, then creates or updates, so running it again converges.
Steps: S3 bucket, Glue script upload (glue/*.py, category synonyms), Glue database, raw CSV
classifier, crawler over s3://BUCKET/price-stream/, cleaning job (Glue 5.0, bookmarks),
Athena table over s3://BUCKET/cleaned/ (partition projection), then any steps other areas add.

${AWS_USAGE}
  --json               print {"steps":[{"id","outcome","detail"}]} on stdout`,
  async run(args, io) {
    const config = awsConfigFromArgs(args);
    const clients = createAwsClients(config);
    io.log(`cloud setup: ${describeAwsConfig(config)}`);
    try {
      const steps = await runCloudSetup({ config, clients, glueDir: defaultGlueDir(), log: io.log }, [...CLOUD_SETUP_STEPS, ...ATHENA_SETUP_STEPS], (report) =>
        io.log(`  ${report.title}: ${report.outcome}${report.detail ? ` (${report.detail})` : ''}`),
      );
      const result = { steps: steps.map((s) => ({ id: s.id, outcome: s.outcome, ...(s.detail ? { detail: s.detail } : {}) })) };
      if (args.switches.has('json')) io.json(result);
      else io.out(`cloud setup done: ${steps.length} steps`);
    } finally {
      destroyAwsClients(clients);
    }
  },
};
