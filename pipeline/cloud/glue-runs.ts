/**
 * Glue crawler and job runs as `start…` + `wait…` pairs with explicit final states, a
 * configurable poll delay, throttling retries, and typed errors carrying Glue's own message.
 * Shapes follow ../shared/aws-samples/glue (see NOTES.md there):
 * - Crawler `State` is READY | RUNNING | STOPPING; the outcome is `LastCrawl.Status`
 *   (SUCCEEDED | FAILED | CANCELLED), to be read only once State is READY again.
 * - Job runs end in SUCCEEDED, or FAILED | ERROR | TIMEOUT | STOPPED | EXPIRED.
 */
import {
  GetCrawlerCommand,
  GetCrawlerMetricsCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  StartCrawlerCommand,
  StartJobRunCommand,
  type Crawler,
  type CrawlerMetrics,
  type GlueClient,
  type JobRun,
} from '@aws-sdk/client-glue';
import { AwsCallError, awsErrorCode, callAws, defaultSleep, type RetryOptions } from './aws-calls';

export interface WaitOptions {
  /** Delay between polls. Default 10 s (crawls and jobs take minutes). */
  pollMs?: number;
  /** Give up waiting after this long (the run goes on in AWS). Default 2 h. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called after each poll with the current state. */
  onPoll?: (state: string, elapsedMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  retry?: RetryOptions;
}

/** A run ended in a failure state; `serviceMessage` is Glue's ErrorMessage when it gave one. */
export class GlueRunFailedError extends Error {
  override name = 'GlueRunFailedError';
  constructor(
    readonly kind: 'crawler' | 'job',
    readonly resource: string,
    readonly state: string,
    readonly serviceMessage: string | undefined,
  ) {
    super(`${kind} ${resource} ended ${state}${serviceMessage ? `: ${serviceMessage}` : ''}`);
  }
}

/** Waiting gave up before the run ended (the run itself continues in AWS). */
export class GlueWaitTimeoutError extends Error {
  override name = 'GlueWaitTimeoutError';
  constructor(
    readonly kind: 'crawler' | 'job',
    readonly resource: string,
    readonly lastState: string,
    readonly waitedMs: number,
  ) {
    super(`gave up waiting for ${kind} ${resource} after ${Math.round(waitedMs / 1000)} s (last state ${lastState}); it is still running in AWS`);
  }
}

/** The crawler or job does not exist, or Glue may not use its role: a setup problem. */
export class GlueSetupError extends Error {
  override name = 'GlueSetupError';
  constructor(
    message: string,
    readonly code: string,
    readonly serviceMessage: string,
  ) {
    super(message);
  }
}

export const JOB_FINAL_STATES = ['SUCCEEDED', 'FAILED', 'ERROR', 'TIMEOUT', 'STOPPED', 'EXPIRED'] as const;
const JOB_ACTIVE_STATES = new Set(['STARTING', 'RUNNING', 'STOPPING', 'WAITING']);

function setupError(kind: 'crawler' | 'job', name: string, error: unknown): unknown {
  const code = awsErrorCode(error);
  const message = error instanceof AwsCallError ? error.serviceMessage : String(error);
  if (code === 'EntityNotFoundException') return new GlueSetupError(`${kind} ${name} was not found (${message}). Run "pricedrop cloud setup" first.`, code, message);
  if (code === 'AccessDeniedException' || code === 'AccessDenied')
    return new GlueSetupError(`${kind} ${name}: access denied (${message}). Check your credentials and that Glue may assume the role (--role).`, code, message);
  return error;
}

export interface CrawlerStart {
  /** false when the crawler was already running: we wait for that crawl instead. */
  started: boolean;
  /** The crawler as it was just before (or at) the start, to tell the new crawl from the last one. */
  before: Crawler;
}

/** Starts the crawler; a crawl already in progress (CrawlerRunningException) is joined, not an error. */
export async function startCrawler(glue: GlueClient, name: string, retry?: RetryOptions): Promise<CrawlerStart> {
  try {
    const before = (await callAws('GetCrawler', () => glue.send(new GetCrawlerCommand({ Name: name })), retry)).Crawler ?? {};
    if (before.State === 'RUNNING' || before.State === 'STOPPING') return { started: false, before };
    try {
      await callAws('StartCrawler', () => glue.send(new StartCrawlerCommand({ Name: name })), retry);
      return { started: true, before };
    } catch (error) {
      if (awsErrorCode(error) === 'CrawlerRunningException') return { started: false, before };
      throw error;
    }
  } catch (error) {
    throw setupError('crawler', name, error);
  }
}

export interface CrawlResult {
  status: 'SUCCEEDED';
  crawler: Crawler;
  metrics?: CrawlerMetrics;
}

/**
 * Waits for the crawl that `start` began (or joined) to finish: State back to READY with a
 * LastCrawl other than the one before. SUCCEEDED returns; FAILED/CANCELLED throw GlueRunFailedError.
 */
export async function waitForCrawler(glue: GlueClient, name: string, start: CrawlerStart, options: WaitOptions = {}): Promise<CrawlResult> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 2 * 3600_000;
  const began = now();
  // During STOPPING, LastCrawl already describes the finishing crawl: the next READY is ours.
  const previousCrawl = start.before.State === 'STOPPING' ? undefined : start.before.LastCrawl?.MessagePrefix ?? start.before.LastCrawl?.StartTime?.getTime();
  let state: string;
  let seenBusy = start.before.State === 'RUNNING' || start.before.State === 'STOPPING';
  for (;;) {
    options.signal?.throwIfAborted();
    const crawler = (await callAws('GetCrawler', () => glue.send(new GetCrawlerCommand({ Name: name })), options.retry)).Crawler ?? {};
    state = crawler.State ?? 'UNKNOWN';
    options.onPoll?.(state, now() - began);
    if (state === 'RUNNING' || state === 'STOPPING') seenBusy = true;
    const last = crawler.LastCrawl;
    const lastId = last?.MessagePrefix ?? last?.StartTime?.getTime();
    if (state === 'READY' && last && (lastId !== previousCrawl || (seenBusy && previousCrawl === undefined))) {
      if (last.Status === 'SUCCEEDED') {
        const metrics = await callAws('GetCrawlerMetrics', () => glue.send(new GetCrawlerMetricsCommand({ CrawlerNameList: [name] })), options.retry)
          .then((out) => out.CrawlerMetricsList?.[0])
          .catch(() => undefined);
        return { status: 'SUCCEEDED', crawler, metrics };
      }
      throw new GlueRunFailedError('crawler', name, last.Status ?? 'UNKNOWN', last.ErrorMessage);
    }
    if (now() - began >= timeoutMs) throw new GlueWaitTimeoutError('crawler', name, state, now() - began);
    await sleep(pollMs);
  }
}

export interface JobStart {
  runId: string;
  /** false when the job was already running at its concurrency limit: we wait for that run. */
  started: boolean;
}

/**
 * Starts a job run. At the job's MaxConcurrentRuns (ConcurrentRunsExceededException) the run in
 * progress is joined instead, so a second `cloud transform` never double-processes a bookmark.
 */
export async function startJobRun(glue: GlueClient, jobName: string, args: Record<string, string> = {}, retry?: RetryOptions): Promise<JobStart> {
  try {
    const out = await callAws('StartJobRun', () => glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: args })), retry);
    if (!out.JobRunId) throw new Error(`StartJobRun returned no JobRunId for ${jobName}`);
    return { runId: out.JobRunId, started: true };
  } catch (error) {
    if (awsErrorCode(error) === 'ConcurrentRunsExceededException') {
      const runs = await callAws('GetJobRuns', () => glue.send(new GetJobRunsCommand({ JobName: jobName, MaxResults: 20 })), retry);
      const active = runs.JobRuns?.find((run) => JOB_ACTIVE_STATES.has(run.JobRunState ?? ''));
      if (active?.Id) return { runId: active.Id, started: false };
      throw new GlueRunFailedError('job', jobName, 'CONCURRENT_RUNS_EXCEEDED', error instanceof AwsCallError ? error.serviceMessage : String(error));
    }
    throw setupError('job', jobName, error);
  }
}

/** Waits for a job run's final state: SUCCEEDED returns the run; any other final state throws GlueRunFailedError. */
export async function waitForJobRun(glue: GlueClient, jobName: string, runId: string, options: WaitOptions = {}): Promise<JobRun> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 3 * 3600_000;
  const began = now();
  for (;;) {
    options.signal?.throwIfAborted();
    const run = (await callAws('GetJobRun', () => glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId })), options.retry)).JobRun ?? {};
    const state = run.JobRunState ?? 'UNKNOWN';
    options.onPoll?.(state, now() - began);
    if (state === 'SUCCEEDED') return run;
    if ((JOB_FINAL_STATES as readonly string[]).includes(state)) {
      const message = run.ErrorMessage ?? (state === 'TIMEOUT' ? `the run exceeded the job's Timeout of ${run.Timeout ?? '?'} minutes` : undefined);
      throw new GlueRunFailedError('job', jobName, state, message);
    }
    if (now() - began >= timeoutMs) throw new GlueWaitTimeoutError('job', jobName, state, now() - began);
    await sleep(pollMs);
  }
}
