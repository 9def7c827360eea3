/**
 * `pricedrop cloud setup`: the AWS side as a list of idempotent steps, run in order. Each step
 * looks before it leaps (get → create or update) so running setup again converges instead of
 * failing. Other areas append their steps to CLOUD_SETUP_STEPS (e.g. Athena workgroup settings,
 * Power BI views) — one entry each, in the order they must run.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  CreateClassifierCommand,
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateJobCommand,
  CreateTableCommand,
  GetClassifierCommand,
  GetCrawlerCommand,
  GetDatabaseCommand,
  GetJobCommand,
  GetTableCommand,
  UpdateClassifierCommand,
  UpdateCrawlerCommand,
  UpdateJobCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { GLUE_SCRIPT_FILES, cleanedTable, cleaningJob, rawCrawler, rawCsvClassifier, type GlueDefinitionInput } from '../../glue/glue-definitions';
import { packageRoot } from '../base/paths';
import { AwsCallError, awsErrorCode, callAws, type RetryOptions } from './aws-calls';
import { glueNames, type AwsClients, type AwsConfig } from './aws-config';

export interface CloudContext {
  config: AwsConfig;
  clients: AwsClients;
  /** Folder holding the Glue job files (default: `<package>/glue`). */
  glueDir: string;
  log: (message: string) => void;
  retry?: RetryOptions;
}

export type StepOutcome = 'created' | 'updated' | 'unchanged' | 'skipped';

export interface StepResult {
  outcome: StepOutcome;
  detail?: string;
}

export interface CloudSetupStep {
  id: string;
  title: string;
  run(context: CloudContext): Promise<StepResult>;
}

/** Raised when a step fails; names the step and keeps the service's error. */
export class CloudSetupError extends Error {
  override name = 'CloudSetupError';
  constructor(
    readonly stepId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function defaultGlueDir(): string {
  return join(packageRoot(), 'glue');
}

function definitionInput(config: AwsConfig): GlueDefinitionInput {
  const names = glueNames(config);
  return { bucket: config.bucket, database: config.database, role: config.role, crawler: names.crawler, job: names.job, classifier: names.classifier, rawTable: names.rawTable, cleanedTable: names.cleanedTable };
}

const notFound = (error: unknown) => {
  const code = awsErrorCode(error);
  return code === 'EntityNotFoundException' || code === 'NotFound' || code === 'NoSuchBucket' || code === 'NoSuchKey' || (error instanceof AwsCallError && error.httpStatus === 404);
};

/** Get; on not-found create. True when this call created it; AlreadyExists on create (a race) counts as existing. */
async function createIfMissing(operation: string, get: () => Promise<unknown>, create: () => Promise<unknown>, retry?: RetryOptions): Promise<boolean> {
  try {
    await callAws(`Get${operation}`, get, retry);
    return false;
  } catch (error) {
    if (!notFound(error)) throw error;
  }
  try {
    await callAws(`Create${operation}`, create, retry);
    return true;
  } catch (error) {
    if (awsErrorCode(error) !== 'AlreadyExistsException') throw error;
    return false;
  }
}

/** createIfMissing, then update what already existed (so a race also ends updated). */
async function upsert(operation: string, get: () => Promise<unknown>, create: () => Promise<unknown>, update: () => Promise<unknown>, retry?: RetryOptions): Promise<StepResult> {
  if (await createIfMissing(operation, get, create, retry)) return { outcome: 'created' };
  await callAws(`Update${operation}`, update, retry);
  return { outcome: 'updated' };
}

export const CLOUD_SETUP_STEPS: readonly CloudSetupStep[] = [
  {
    id: 's3-bucket',
    title: 'S3 bucket',
    async run({ config, clients, retry }) {
      try {
        await callAws('HeadBucket', () => clients.s3.send(new HeadBucketCommand({ Bucket: config.bucket })), retry);
        return { outcome: 'unchanged' };
      } catch (error) {
        if (!notFound(error)) throw error;
      }
      const location = config.region === 'us-east-1' || config.s3Endpoint ? undefined : { LocationConstraint: config.region as BucketLocationConstraint };
      await callAws('CreateBucket', () => clients.s3.send(new CreateBucketCommand({ Bucket: config.bucket, CreateBucketConfiguration: location })), retry);
      return { outcome: 'created', detail: `s3://${config.bucket}` };
    },
  },
  {
    id: 'glue-scripts',
    title: 'Glue job script and rules upload',
    async run({ config, clients, glueDir, retry }) {
      const prefix = glueNames(config).scriptsPrefix;
      let uploaded = 0;
      for (const file of GLUE_SCRIPT_FILES) {
        const body = readFileSync(join(glueDir, file));
        const md5 = createHash('md5').update(body).digest('hex');
        const key = prefix + basename(file);
        let current: string | undefined;
        try {
          const head = await callAws('HeadObject', () => clients.s3.send(new HeadObjectCommand({ Bucket: config.bucket, Key: key })), retry);
          current = head.ETag?.replace(/"/g, '');
        } catch (error) {
          if (!notFound(error)) throw error;
        }
        if (current === md5) continue;
        const contentType = key.endsWith('.json') ? 'application/json' : 'text/x-python';
        await callAws('PutObject', () => clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: contentType })), retry);
        uploaded++;
      }
      return uploaded === 0 ? { outcome: 'unchanged' } : { outcome: 'updated', detail: `${uploaded} file(s) to s3://${config.bucket}/${prefix}` };
    },
  },
  {
    id: 'glue-database',
    title: 'Glue database',
    async run({ config, clients, retry }) {
      const created = await createIfMissing(
        'Database',
        () => clients.glue.send(new GetDatabaseCommand({ Name: config.database })),
        () => clients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: config.database, Description: 'PriceDrop price observations' } })),
        retry,
      );
      return created ? { outcome: 'created', detail: config.database } : { outcome: 'unchanged' };
    },
  },
  {
    id: 'glue-classifier',
    title: 'CSV classifier for the raw format',
    run({ config, clients, retry }) {
      const definition = rawCsvClassifier(definitionInput(config));
      return upsert(
        'Classifier',
        () => clients.glue.send(new GetClassifierCommand({ Name: definition.CsvClassifier!.Name })),
        () => clients.glue.send(new CreateClassifierCommand(definition)),
        () => clients.glue.send(new UpdateClassifierCommand({ CsvClassifier: definition.CsvClassifier })),
        retry,
      );
    },
  },
  {
    id: 'glue-crawler',
    title: 'Crawler over price-stream/',
    async run({ config, clients, retry }) {
      const definition = rawCrawler(definitionInput(config));
      const { Tags: _tags, ...update } = definition;
      try {
        return await upsert(
          'Crawler',
          () => clients.glue.send(new GetCrawlerCommand({ Name: definition.Name })),
          () => clients.glue.send(new CreateCrawlerCommand(definition)),
          () => clients.glue.send(new UpdateCrawlerCommand(update)),
          retry,
        );
      } catch (error) {
        // UpdateCrawler on a running crawler: InvalidInputException "Cannot update Crawler while running".
        if (awsErrorCode(error) === 'InvalidInputException' && /while running/i.test(error instanceof Error ? error.message : '')) {
          return { outcome: 'skipped', detail: 'the crawler is running; its definition was left as is (run setup again later)' };
        }
        throw error;
      }
    },
  },
  {
    id: 'glue-job',
    title: 'Cleaning job (Glue 5.0)',
    run({ config, clients, retry }) {
      const definition = cleaningJob(definitionInput(config));
      const { Name, Tags: _tags, ...update } = definition;
      return upsert(
        'Job',
        () => clients.glue.send(new GetJobCommand({ JobName: Name })),
        () => clients.glue.send(new CreateJobCommand(definition)),
        () => clients.glue.send(new UpdateJobCommand({ JobName: Name, JobUpdate: update })),
        retry,
      );
    },
  },
  {
    id: 'cleaned-table',
    title: 'Athena table over cleaned/ (partition projection)',
    run({ config, clients, retry }) {
      const table = cleanedTable(definitionInput(config));
      return upsert(
        'Table',
        () => clients.glue.send(new GetTableCommand({ DatabaseName: config.database, Name: table.Name })),
        () => clients.glue.send(new CreateTableCommand({ DatabaseName: config.database, TableInput: table })),
        () => clients.glue.send(new UpdateTableCommand({ DatabaseName: config.database, TableInput: table })),
        retry,
      );
    },
  },
];

export interface SetupReport {
  id: string;
  title: string;
  outcome: StepOutcome;
  detail?: string;
}

/**
 * Runs the steps in order; stops at the first failure with a CloudSetupError naming the step
 * and carrying the service's message (earlier steps stay done: setup is safe to re-run).
 */
export async function runCloudSetup(context: CloudContext, steps: readonly CloudSetupStep[] = CLOUD_SETUP_STEPS, onStep?: (report: SetupReport) => void): Promise<SetupReport[]> {
  const reports: SetupReport[] = [];
  for (const step of steps) {
    let result: StepResult;
    try {
      result = await step.run(context);
    } catch (error) {
      const code = awsErrorCode(error);
      const message = error instanceof Error ? error.message : String(error);
      const hint =
        code === 'AccessDeniedException' || code === 'AccessDenied'
          ? ` (check the credentials' permissions, and that the role "${context.config.role}" exists and Glue may use it: --role)`
          : code === 'EntityNotFoundException' && /role/i.test(message)
            ? ` (the role "${context.config.role}" was not found: create it or pass --role)`
            : '';
      throw new CloudSetupError(step.id, `${step.title}: ${message}${hint}`, { cause: error });
    }
    const report: SetupReport = { id: step.id, title: step.title, outcome: result.outcome, ...(result.detail ? { detail: result.detail } : {}) };
    reports.push(report);
    onStep?.(report);
  }
  return reports;
}
