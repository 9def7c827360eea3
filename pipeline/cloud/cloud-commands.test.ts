import { GetCrawlerCommand, GetCrawlerMetricsCommand, GetJobRunCommand, GlueClient, StartCrawlerCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { crawlerWith, glueOutput } from '../../test/support/aws-glue-samples';
import { parseArgs, UsageError, type CommandIo } from '../base/command-line';
import { cloudCrawlCommand } from '../cli/cloud-crawl-command';
import { cloudTransformCommand } from '../cli/cloud-transform-command';
import { awsConfigFromArgs, createAwsClients } from './aws-config';

const glueMock = mockClient(GlueClient);
beforeEach(() => glueMock.reset());

function capture(): CommandIo & { jsonOut: unknown[]; logs: string[] } {
  const jsonOut: unknown[] = [];
  const logs: string[] = [];
  return { jsonOut, logs, log: (m) => logs.push(m), json: (v) => jsonOut.push(v), out: (m) => logs.push(m), progress: () => undefined };
}

const awsFlags = ['--bucket', 'pricedrop-lake', '--region', 'eu-west-1', '--poll-seconds', '0'];

describe('cloud commands', () => {
  it('reads the AWS flags and rejects bad ones by name', () => {
    const config = awsConfigFromArgs(parseArgs(['--bucket', 'my-lake', '--region', 'us-east-1', '--profile', 'work', '--database', 'prices']), {});
    expect(config).toMatchObject({ bucket: 'my-lake', region: 'us-east-1', profile: 'work', database: 'prices', workgroup: 'pricedrop' });
    expect(() => awsConfigFromArgs(parseArgs([]), {})).toThrow(UsageError);
    expect(() => awsConfigFromArgs(parseArgs(['--bucket', 'Bad_Bucket']), {})).toThrow(/--bucket/);
    expect(() => awsConfigFromArgs(parseArgs(['--bucket', 'ok-bucket', '--region', 'mars']), {})).toThrow(/--region/);
    expect(awsConfigFromArgs(parseArgs([]), { PRICEDROP_BUCKET: 'env-lake', AWS_REGION: 'eu-central-1' })).toMatchObject({ bucket: 'env-lake', region: 'eu-central-1' });
  });

  it('gives the profile to the SDK clients (the default chain resolves it) and path-style S3 for an endpoint', async () => {
    const clients = createAwsClients({ bucket: 'b-1', region: 'eu-west-1', profile: 'work', database: 'pricedrop', workgroup: 'pricedrop', role: 'r', s3Endpoint: 'http://127.0.0.1:4568' });
    expect(clients.glue.config.profile).toBe('work');
    expect(clients.s3.config.forcePathStyle).toBe(true);
    expect((await clients.s3.config.endpoint!()).hostname).toBe('127.0.0.1');
    clients.glue.destroy();
    clients.s3.destroy();
    clients.athena.destroy();
  });

  it('cloud crawl --json reports the finished crawl', async () => {
    glueMock.on(GetCrawlerCommand).resolvesOnce(glueOutput('get-crawler-ready-never-run.json')).resolvesOnce(glueOutput('get-crawler-running.json')).resolves(crawlerWith('get-crawler-ready-succeeded.json', {}));
    glueMock.on(StartCrawlerCommand).resolves({});
    glueMock.on(GetCrawlerMetricsCommand).resolves(glueOutput('get-crawler-metrics-ready.json'));
    const io = capture();
    await cloudCrawlCommand.run(parseArgs([...awsFlags, '--json']), io);
    expect(io.jsonOut).toEqual([{ crawler: 'pricedrop-observations-crawler', state: 'SUCCEEDED', already_running: false, elapsed_s: expect.any(Number), tables_created: 1, tables_updated: 0 }]);
  });

  it('cloud transform fails with the job\'s error message', async () => {
    glueMock.on(StartJobRunCommand).resolves(glueOutput('start-job-run-ok.json'));
    glueMock.on(GetJobRunCommand).resolves(glueOutput('get-job-run-failed.json'));
    await expect(cloudTransformCommand.run(parseArgs(awsFlags), capture())).rejects.toThrow(
      'job pricedrop-clean-observations ended FAILED: AnalysisException: Path does not exist: s3://pricedrop-lake/raw/snapshot_date=2024-05-17',
    );
  });
});
