import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { UsageError, type ParsedArgs } from '../base/command-line';

/**
 * Where PriceDrop's AWS side lives. One bucket holds everything, by prefix:
 * `price-stream/` (raw CSV lake, same layout as the local one), `cleaned/` (the Glue job's
 * Parquet), `quarantine/`, `glue-scripts/`, `glue-temp/`, `athena-results/`, `athena-unload/`.
 */
export interface AwsConfig {
  bucket: string;
  region: string;
  /** A named profile of ~/.aws/config; absent: the SDK's default credential chain. */
  profile?: string;
  /** Glue/Athena database. */
  database: string;
  /** Athena workgroup. */
  workgroup: string;
  /** An S3-compatible endpoint (tests: s3rver on 127.0.0.1); path-style addressing is used with it. */
  s3Endpoint?: string;
  /** IAM role Glue's crawler and job run as (name or ARN). */
  role: string;
}

export const AWS_DEFAULTS = {
  database: 'pricedrop',
  workgroup: 'pricedrop',
  role: 'service-role/AWSGlueServiceRole-pricedrop',
} as const;

/** Usage lines shared by the `cloud ...` commands. */
export const AWS_USAGE = `AWS options (the standard credential chain: environment, ~/.aws, SSO, instance role):
  --bucket NAME        S3 bucket of the lake (required; or $PRICEDROP_BUCKET)
  --region REGION      AWS region (default: $AWS_REGION, else eu-west-1)
  --profile NAME       named profile from ~/.aws/config (default: the default chain)
  --database NAME      Glue/Athena database (default: pricedrop)
  --workgroup NAME     Athena workgroup (default: pricedrop)
  --role ROLE          IAM role for the Glue crawler and job (default: ${AWS_DEFAULTS.role})
  --s3-endpoint URL    S3-compatible endpoint, e.g. http://127.0.0.1:4568 (path-style)`;

const NAME = /^[a-z0-9_]{1,255}$/;

/** Reads the AWS flags; throws UsageError naming the bad one. */
export function awsConfigFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const bucket = args.flags.get('bucket') ?? env.PRICEDROP_BUCKET;
  if (!bucket) throw new UsageError('--bucket is required (or set PRICEDROP_BUCKET)');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(`--bucket "${bucket}" is not a valid S3 bucket name`);
  const region = args.flags.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'eu-west-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new UsageError(`--region "${region}" is not an AWS region name`);
  const database = args.flags.get('database') ?? AWS_DEFAULTS.database;
  if (!NAME.test(database)) throw new UsageError(`--database "${database}" must be lower-case letters, digits and underscores`);
  const workgroup = args.flags.get('workgroup') ?? AWS_DEFAULTS.workgroup;
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(workgroup)) throw new UsageError(`--workgroup "${workgroup}" is not a valid workgroup name`);
  const s3Endpoint = args.flags.get('s3-endpoint');
  if (s3Endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(s3Endpoint)) throw new UsageError(`--s3-endpoint "${s3Endpoint}" must look like http://host:port`);
  const profile = args.flags.get('profile') ?? undefined;
  return { bucket, region, profile, database, workgroup, s3Endpoint, role: args.flags.get('role') ?? AWS_DEFAULTS.role };
}

/** The AWS clients, created once at the edge (the command) and passed to everything below. */
export interface AwsClients {
  glue: GlueClient;
  s3: S3Client;
  athena: AthenaClient;
}

/**
 * Clients for a config. With `profile`, the SDK's default provider chain resolves that profile
 * (the same as `fromIni({ profile })` plus SSO/process credentials); without, the default chain.
 * Credentials are never read or logged here.
 */
export function createAwsClients(config: AwsConfig): AwsClients {
  const common = { region: config.region, ...(config.profile ? { profile: config.profile } : {}) };
  return {
    glue: new GlueClient(common),
    athena: new AthenaClient(common),
    s3: new S3Client({ ...common, ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}) }),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.glue.destroy();
  clients.s3.destroy();
  clients.athena.destroy();
}

/** Names derived from the config, in one place (setup, crawl and transform agree on them). */
export function glueNames(config: AwsConfig) {
  return {
    crawler: `${config.database}-observations-crawler`,
    job: `${config.database}-clean-observations`,
    classifier: `${config.database}-raw-csv`,
    /** The crawler names the table after the last folder of its target: price-stream -> price_stream. */
    rawTable: 'price_stream',
    cleanedTable: 'cleaned_observations',
    rawPath: `s3://${config.bucket}/price-stream/`,
    cleanedPath: `s3://${config.bucket}/cleaned/`,
    quarantinePath: `s3://${config.bucket}/quarantine/`,
    scriptsPrefix: 'glue-scripts/',
    tempPath: `s3://${config.bucket}/glue-temp/`,
    athenaResultsPath: `s3://${config.bucket}/athena-results/`,
    /** Where `cloud sync` UNLOADs large results to Parquet (one folder per query). */
    athenaUnloadPath: `s3://${config.bucket}/athena-unload/`,
  };
}

/** For messages: the config without anything that could be secret (there is nothing secret in it by design). */
export function describeAwsConfig(config: AwsConfig): string {
  return `bucket ${config.bucket}, region ${config.region}, database ${config.database}${config.profile ? `, profile ${config.profile}` : ''}${config.s3Endpoint ? `, S3 at ${config.s3Endpoint}` : ''}`;
}
