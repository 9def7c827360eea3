import { GetCrawlerCommand, GetCrawlerMetricsCommand, GetJobRunCommand, GetJobRunsCommand, GlueClient, StartCrawlerCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crawlerWith, glueAccessDenied, glueError, glueOutput, glueThrottle } from '../../test/support/aws-glue-samples';
import { GlueRunFailedError, GlueSetupError, GlueWaitTimeoutError, startCrawler, startJobRun, waitForCrawler, waitForJobRun } from './glue-runs';

const glueMock = mockClient(GlueClient);
let glue: GlueClient;
const sleeps: number[] = [];
const fast = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 1 };
const wait = { pollMs: 5, sleep: fast.sleep, retry: fast };

beforeEach(() => {
  glueMock.reset();
  sleeps.length = 0;
  glue = new GlueClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterEach(() => glue.destroy());

const CRAWLER = 'pricedrop-observations-crawler';
const JOB = 'pricedrop-clean-observations';
const NEW_CRAWL = { MessagePrefix: '11111111-2222-4333-8444-555555555555', StartTime: new Date(1715990000000) };

describe('crawler runs', () => {
  it('starts, polls through RUNNING, and returns the new crawl SUCCEEDED with its metrics', async () => {
    glueMock
      .on(GetCrawlerCommand)
      .resolvesOnce(glueOutput('get-crawler-ready-succeeded.json'))
      .resolvesOnce(glueOutput('get-crawler-ready-succeeded.json')) // not yet RUNNING: the old crawl must not count
      .resolvesOnce(glueOutput('get-crawler-running.json'))
      .resolvesOnce(glueOutput('get-crawler-stopping.json'))
      .resolves(crawlerWith('get-crawler-ready-succeeded.json', { LastCrawl: NEW_CRAWL }));
    glueMock.on(StartCrawlerCommand).resolves(glueOutput('start-crawler-ok.json'));
    glueMock.on(GetCrawlerMetricsCommand).resolves(glueOutput('get-crawler-metrics-ready.json'));
    const states: string[] = [];
    const start = await startCrawler(glue, CRAWLER, fast);
    expect(start.started).toBe(true);
    const result = await waitForCrawler(glue, CRAWLER, start, { ...wait, onPoll: (state) => states.push(state) });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.metrics?.TablesCreated).toBe(1);
    expect(states).toEqual(['READY', 'RUNNING', 'STOPPING', 'READY']);
    expect(glueMock.commandCalls(StartCrawlerCommand)).toHaveLength(1);
  });

  it('reports FAILED with Glue\'s own message', async () => {
    glueMock
      .on(GetCrawlerCommand)
      .resolvesOnce(glueOutput('get-crawler-ready-never-run.json'))
      .resolvesOnce(glueOutput('get-crawler-running.json'))
      .resolves(glueOutput('get-crawler-ready-failed-lake-formation.json'));
    glueMock.on(StartCrawlerCommand).resolves({});
    const start = await startCrawler(glue, CRAWLER, fast);
    const error = await waitForCrawler(glue, CRAWLER, start, wait).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlueRunFailedError);
    expect(error).toMatchObject({ state: 'FAILED', serviceMessage: expect.stringMatching(/^Insufficient Lake Formation permission\(s\) on pricedrop/) });
  });

  it('reports CANCELLED', async () => {
    glueMock.on(GetCrawlerCommand).resolvesOnce(glueOutput('get-crawler-running.json')).resolves(glueOutput('get-crawler-ready-cancelled.json'));
    glueMock.on(StartCrawlerCommand).rejects(glueError('error-crawler-running.json'));
    const start = await startCrawler(glue, CRAWLER, fast);
    await expect(waitForCrawler(glue, CRAWLER, start, wait)).rejects.toMatchObject({ name: 'GlueRunFailedError', state: 'CANCELLED' });
  });

  it('joins a crawl already running (State RUNNING, or CrawlerRunningException on start) instead of failing', async () => {
    glueMock.on(GetCrawlerCommand).resolvesOnce(glueOutput('get-crawler-ready-succeeded.json')).resolvesOnce(glueOutput('get-crawler-running.json')).resolves(crawlerWith('get-crawler-ready-succeeded.json', { LastCrawl: NEW_CRAWL }));
    glueMock.on(StartCrawlerCommand).rejects(glueError('error-crawler-running.json'));
    const start = await startCrawler(glue, CRAWLER, fast);
    expect(start.started).toBe(false);
    await expect(waitForCrawler(glue, CRAWLER, start, wait)).resolves.toMatchObject({ status: 'SUCCEEDED' });

    glueMock.reset();
    glueMock.on(GetCrawlerCommand).resolves(glueOutput('get-crawler-running.json'));
    expect((await startCrawler(glue, CRAWLER, fast)).started).toBe(false);
    expect(glueMock.commandCalls(StartCrawlerCommand)).toHaveLength(0);
  });

  it('takes the next READY after STOPPING as the end of that crawl', async () => {
    glueMock.on(GetCrawlerCommand).resolvesOnce(glueOutput('get-crawler-stopping.json')).resolves(glueOutput('get-crawler-ready-succeeded.json'));
    const start = await startCrawler(glue, CRAWLER, fast);
    await expect(waitForCrawler(glue, CRAWLER, start, wait)).resolves.toMatchObject({ status: 'SUCCEEDED' });
  });

  it('retries throttling with backoff, then goes on', async () => {
    glueMock.on(GetCrawlerCommand).rejectsOnce(glueThrottle()).rejectsOnce(glueThrottle()).resolves(glueOutput('get-crawler-ready-never-run.json'));
    glueMock.on(StartCrawlerCommand).rejectsOnce(glueThrottle()).resolves({});
    const start = await startCrawler(glue, CRAWLER, { ...fast, baseDelayMs: 100 });
    expect(start.started).toBe(true);
    expect(sleeps).toEqual([100, 200, 100]);
  });

  it('gives up on throttling after the last attempt with the service message', async () => {
    glueMock.on(GetCrawlerCommand).rejects(glueThrottle());
    await expect(startCrawler(glue, CRAWLER, { ...fast, attempts: 3 })).rejects.toMatchObject({ name: 'AwsCallError', code: 'ThrottlingException', serviceMessage: 'Rate exceeded' });
    expect(glueMock.commandCalls(GetCrawlerCommand)).toHaveLength(3);
  });

  it('a missing crawler is a setup error pointing at cloud setup', async () => {
    glueMock.on(GetCrawlerCommand).rejects(glueError('error-entity-not-found-get-crawler.json'));
    const error = await startCrawler(glue, CRAWLER, fast).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlueSetupError);
    expect(String((error as Error).message)).toMatch(/Crawler entry with name pricedrop-observations-crawler does not exist.*pricedrop cloud setup/);
  });

  it('times out waiting with the last state', async () => {
    let clock = 0;
    glueMock.on(GetCrawlerCommand).resolves(glueOutput('get-crawler-running.json'));
    const start = { started: false, before: glueOutput<{ Crawler: object }>('get-crawler-running.json').Crawler };
    const error = await waitForCrawler(glue, CRAWLER, start, { pollMs: 1000, timeoutMs: 5000, now: () => clock, sleep: async (ms) => void (clock += ms) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlueWaitTimeoutError);
    expect(error).toMatchObject({ lastState: 'RUNNING' });
  });
});

describe('job runs', () => {
  const runId = glueOutput<{ JobRunId: string }>('start-job-run-ok.json').JobRunId;

  it('starts and waits for SUCCEEDED', async () => {
    glueMock.on(StartJobRunCommand).resolves(glueOutput('start-job-run-ok.json'));
    glueMock.on(GetJobRunCommand).resolvesOnce(glueOutput('get-job-run-running.json')).resolves(glueOutput('get-job-run-succeeded.json'));
    const start = await startJobRun(glue, JOB, { '--min_drop_pct': '1' }, fast);
    expect(start).toEqual({ runId, started: true });
    expect(glueMock.commandCalls(StartJobRunCommand)[0]!.args[0].input).toEqual({ JobName: JOB, Arguments: { '--min_drop_pct': '1' } });
    const run = await waitForJobRun(glue, JOB, start.runId, wait);
    expect(run).toMatchObject({ JobRunState: 'SUCCEEDED', ExecutionTime: 118 });
  });

  it.each([
    ['get-job-run-failed.json', 'FAILED', 'AnalysisException: Path does not exist: s3://pricedrop-lake/raw/snapshot_date=2024-05-17'],
    ['get-job-run-failed-captured.json', 'FAILED', 'AnalysisException: Path does not exist: s3://sfc-notifications-on-pipeline-fail-datasets/domain=ASCWDS/dataset=workplace'],
    ['get-job-run-timeout.json', 'TIMEOUT', "the run exceeded the job's Timeout of 60 minutes"],
    ['get-job-run-stopped.json', 'STOPPED', undefined],
  ])('%s ends %s with the service message', async (file, state, message) => {
    glueMock.on(GetJobRunCommand).resolvesOnce(glueOutput('get-job-run-running.json')).resolves(glueOutput(file));
    const error = await waitForJobRun(glue, JOB, runId, wait).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlueRunFailedError);
    expect(error).toMatchObject({ state, serviceMessage: message });
  });

  it('joins the run in progress when the job is already running (ConcurrentRunsExceededException)', async () => {
    glueMock.on(StartJobRunCommand).rejects(glueError('error-concurrent-runs-exceeded.json'));
    glueMock.on(GetJobRunsCommand).resolves({ $metadata: {}, JobRuns: [glueOutput<{ JobRun: object }>('get-job-run-succeeded-aws-cli-example.json').JobRun, glueOutput<{ JobRun: object }>('get-job-run-running.json').JobRun] });
    await expect(startJobRun(glue, JOB, {}, fast)).resolves.toEqual({ runId, started: false });
  });

  it('a missing job or role is a setup error with the service message', async () => {
    glueMock.on(StartJobRunCommand).rejects(glueError('error-entity-not-found-start-job-run.json'));
    await expect(startJobRun(glue, JOB, {}, fast)).rejects.toThrow(/Failed to start job run due to missing metadata\..*cloud setup/);
    glueMock.on(StartJobRunCommand).rejects(glueAccessDenied('AWSGlueServiceRole-pricedrop'));
    await expect(startJobRun(glue, JOB, {}, fast)).rejects.toMatchObject({ name: 'GlueSetupError', code: 'AccessDeniedException', message: expect.stringMatching(/iam:PassRole.*--role/) });
  });

  it('retries a throttled start', async () => {
    glueMock.on(StartJobRunCommand).rejectsOnce(glueThrottle()).resolves(glueOutput('start-job-run-ok.json'));
    await expect(startJobRun(glue, JOB, {}, fast)).resolves.toEqual({ runId, started: true });
    expect(sleeps).toHaveLength(1);
  });
});
