import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  GlueClient,
  UpdateClassifierCommand,
  UpdateCrawlerCommand,
  UpdateJobCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AthenaClient } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LoopbackS3 } from '../../test/producer/s3rver-server';
import { glueAccessDenied, glueError, glueOutput, glueThrottle } from '../../test/support/aws-glue-samples';
import type { AwsClients, AwsConfig } from './aws-config';
import { CLOUD_SETUP_STEPS, CloudSetupError, defaultGlueDir, runCloudSetup, type CloudContext } from './cloud-setup';

/** S3 steps against s3rver on 127.0.0.1; Glue steps against aws-sdk-client-mock. */
const glueMock = mockClient(GlueClient);
const dir = mkdtempSync(join(tmpdir(), 'pricedrop-s3rver-'));
const s3server = new LoopbackS3(dir, []);
let context: CloudContext;
const config: AwsConfig = { bucket: 'pricedrop-test-lake', region: 'eu-west-1', database: 'pricedrop', workgroup: 'pricedrop', role: 'AWSGlueServiceRole-pricedrop', s3Endpoint: '' };
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const fast = { sleep: async () => undefined };

beforeAll(async () => {
  await s3server.start();
  config.s3Endpoint = s3server.endpoint;
  const clients: AwsClients = {
    glue: new GlueClient({ region: config.region, credentials }),
    athena: new AthenaClient({ region: config.region, credentials }),
    s3: new S3Client({ region: config.region, credentials, endpoint: config.s3Endpoint, forcePathStyle: true }),
  };
  context = { config, clients, glueDir: defaultGlueDir(), log: () => undefined, retry: fast };
});
afterAll(async () => {
  context.clients.s3.destroy();
  await s3server.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => glueMock.reset());

function glueIsEmpty() {
  glueMock.on(GetDatabaseCommand).rejects(glueError('error-entity-not-found-get-crawler.json'));
  glueMock.on(GetClassifierCommand).rejects(glueError('error-entity-not-found-get-crawler.json'));
  glueMock.on(GetCrawlerCommand).rejects(glueError('error-entity-not-found-get-crawler.json'));
  glueMock.on(GetJobCommand).rejects(glueError('error-entity-not-found-start-job-run.json'));
  glueMock.on(GetTableCommand).rejects(glueError('error-entity-not-found-get-crawler.json'));
  glueMock.on(CreateDatabaseCommand).resolves({});
  glueMock.on(CreateClassifierCommand).resolves({});
  glueMock.on(CreateCrawlerCommand).resolves({});
  glueMock.on(CreateJobCommand).resolves({});
  glueMock.on(CreateTableCommand).resolves({});
}

function glueHasEverything() {
  glueMock.on(GetDatabaseCommand).resolves({ Database: { Name: 'pricedrop' } });
  glueMock.on(GetClassifierCommand).resolves({ Classifier: {} });
  glueMock.on(GetCrawlerCommand).resolves(glueOutput('get-crawler-ready-succeeded.json'));
  glueMock.on(GetJobCommand).resolves({ Job: { Name: 'pricedrop-clean-observations' } });
  glueMock.on(GetTableCommand).resolves(glueOutput('get-table-parquet-partition-projection.json'));
  glueMock.on(UpdateClassifierCommand).resolves({});
  glueMock.on(UpdateCrawlerCommand).resolves({});
  glueMock.on(UpdateJobCommand).resolves({});
  glueMock.on(UpdateTableCommand).resolves({});
}

describe('cloud setup', () => {
  it('creates everything on an empty account, uploading the job files to S3', async () => {
    glueIsEmpty();
    const reports = await runCloudSetup(context);
    expect(reports.map((r) => [r.id, r.outcome])).toEqual([
      ['s3-bucket', 'created'],
      ['glue-scripts', 'updated'],
      ['glue-database', 'created'],
      ['glue-classifier', 'created'],
      ['glue-crawler', 'created'],
      ['glue-job', 'created'],
      ['cleaned-table', 'created'],
    ]);
    const uploaded = await context.clients.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: 'glue-scripts/price_rules.py' }));
    expect(await uploaded.Body!.transformToString()).toBe(readFileSync(join(defaultGlueDir(), 'price_rules.py'), 'utf8'));

    const job = glueMock.commandCalls(CreateJobCommand)[0]!.args[0].input;
    expect(job).toMatchObject({ Name: 'pricedrop-clean-observations', Role: config.role, GlueVersion: '5.0', Command: { Name: 'glueetl', ScriptLocation: 's3://pricedrop-test-lake/glue-scripts/clean_observations.py' } });
    expect(job.DefaultArguments).toMatchObject({ '--job-bookmark-option': 'job-bookmark-enable', '--extra-py-files': 's3://pricedrop-test-lake/glue-scripts/price_rules.py', '--raw_table': 'price_stream' });
    const crawler = glueMock.commandCalls(CreateCrawlerCommand)[0]!.args[0].input;
    expect(crawler).toMatchObject({ Name: 'pricedrop-observations-crawler', DatabaseName: 'pricedrop', Targets: { S3Targets: [{ Path: 's3://pricedrop-test-lake/price-stream/' }] }, Classifiers: ['pricedrop-raw-csv'] });
    const table = glueMock.commandCalls(CreateTableCommand)[0]!.args[0].input.TableInput!;
    expect(table.Parameters).toMatchObject({ 'projection.enabled': 'true', 'projection.dt.type': 'date', 'storage.location.template': 's3://pricedrop-test-lake/cleaned/dt=${dt}/' });
    expect(table.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(['source', 'product_id', 'observed_at', 'title', 'category', 'price', 'old_price', 'currency', 'drop_amount', 'drop_pct', 'is_drop', 'drop_label']);
  });

  it('converges when run again: nothing re-created, unchanged scripts not re-uploaded', async () => {
    glueHasEverything();
    const reports = await runCloudSetup(context);
    expect(reports.map((r) => [r.id, r.outcome])).toEqual([
      ['s3-bucket', 'unchanged'],
      ['glue-scripts', 'unchanged'],
      ['glue-database', 'unchanged'],
      ['glue-classifier', 'updated'],
      ['glue-crawler', 'updated'],
      ['glue-job', 'updated'],
      ['cleaned-table', 'updated'],
    ]);
    expect(glueMock.commandCalls(CreateJobCommand)).toHaveLength(0);
    const update = glueMock.commandCalls(UpdateJobCommand)[0]!.args[0].input;
    expect(update.JobName).toBe('pricedrop-clean-observations');
    expect(update.JobUpdate).not.toHaveProperty('Tags');
    expect(update.JobUpdate).toMatchObject({ GlueVersion: '5.0' });
  });

  it('leaves a running crawler alone and says so', async () => {
    glueHasEverything();
    glueMock.on(UpdateCrawlerCommand).rejects(glueError('error-invalid-input-update-running-crawler.json'));
    const reports = await runCloudSetup(context);
    expect(reports.find((r) => r.id === 'glue-crawler')).toMatchObject({ outcome: 'skipped', detail: expect.stringMatching(/running/) });
  });

  it('creates when a parallel setup raced it (AlreadyExists falls back to update)', async () => {
    glueIsEmpty();
    glueMock.on(CreateCrawlerCommand).rejects(glueError('error-already-exists-create-crawler.json'));
    glueMock.on(UpdateCrawlerCommand).resolves({});
    const reports = await runCloudSetup(context);
    expect(reports.find((r) => r.id === 'glue-crawler')?.outcome).toBe('updated');
  });

  it('stops at a missing role with the service message and a hint', async () => {
    glueIsEmpty();
    glueMock.on(CreateCrawlerCommand).rejects(glueAccessDenied('AWSGlueServiceRole-pricedrop'));
    const error = await runCloudSetup(context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudSetupError);
    expect(error).toMatchObject({ stepId: 'glue-crawler' });
    expect((error as Error).message).toMatch(/not authorized to perform: iam:PassRole.*--role/);
    expect(glueMock.commandCalls(CreateJobCommand)).toHaveLength(0);
  });

  it('rides out throttling', async () => {
    glueHasEverything();
    glueMock.on(GetJobCommand).rejectsOnce(glueThrottle()).rejectsOnce(glueThrottle()).resolves({ Job: {} });
    const reports = await runCloudSetup(context);
    expect(reports.find((r) => r.id === 'glue-job')?.outcome).toBe('updated');
    expect(glueMock.commandCalls(GetJobCommand)).toHaveLength(3);
  });

  it('lists its steps in one place for other areas to extend', () => {
    expect(CLOUD_SETUP_STEPS.map((s) => s.id).slice(0, 7)).toEqual(['s3-bucket', 'glue-scripts', 'glue-database', 'glue-classifier', 'glue-crawler', 'glue-job', 'cleaned-table']);
  });
});
