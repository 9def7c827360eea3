import { resolve } from 'node:path';
import {
  AccessDeniedException,
  AlreadyExistsException,
  ConcurrentRunsExceededException,
  CrawlerRunningException,
  EntityNotFoundException,
  InvalidInputException,
  ThrottlingException,
} from '@aws-sdk/client-glue';
import { awsSampleFiles } from './aws-sample-files';

/**
 * Glue wire samples (test/fixtures/aws-glue, from ../shared/aws-samples/glue) as what the SDK v3
 * hands back: epoch-second timestamps become Dates, `$metadata` is added, absent keys stay absent.
 * Errors are the SDK's own exception classes with the sample's message.
 */
const samples = awsSampleFiles(
  resolve(import.meta.dirname, '../fixtures/aws-glue'),
  ['CreationTime', 'LastUpdated', 'StartTime', 'StartedOn', 'LastModifiedOn', 'CompletedOn', 'CreateTime', 'UpdateTime', 'LastAccessTime'],
  '8f2e1c7a-4b3d-4e5f-9a6b-0c1d2e3f4a5b',
);
const metadata = samples.metadata;

/** A success sample as SDK output. */
export function glueOutput<T = Record<string, unknown>>(file: string): T {
  return samples.output<T>(file);
}

/** A crawler sample with a few members replaced (e.g. another LastCrawl.MessagePrefix). */
export function crawlerWith(file: string, patch: { State?: string; LastCrawl?: Record<string, unknown> | undefined }) {
  const out = glueOutput<{ Crawler: Record<string, unknown> }>(file);
  const crawler: Record<string, unknown> = { ...out.Crawler, ...(patch.State ? { State: patch.State } : {}) };
  const lastCrawl = patch.LastCrawl;
  if (Object.prototype.hasOwnProperty.call(patch, 'LastCrawl')) {
    if (lastCrawl === undefined) delete crawler.LastCrawl;
    else crawler.LastCrawl = { ...(crawler.LastCrawl as object), ...lastCrawl };
  }
  return { ...out, Crawler: crawler };
}

const ERROR_CLASSES = {
  AlreadyExistsException,
  ConcurrentRunsExceededException,
  CrawlerRunningException,
  EntityNotFoundException,
  InvalidInputException,
} as const;

/** An error sample (`{"__type", "Message"}`) as the SDK's exception. */
export function glueError(file: string): Error {
  const body = JSON.parse(samples.text(file)) as { __type: keyof typeof ERROR_CLASSES; Message: string };
  const ErrorClass = ERROR_CLASSES[body.__type];
  return new ErrorClass({ $metadata: metadata(400), message: body.Message, Message: body.Message } as never);
}

/** Glue's API rate limit: ThrottlingException "Rate exceeded", HTTP 400. */
export function glueThrottle(): Error {
  return new ThrottlingException({ $metadata: metadata(400), message: 'Rate exceeded', Message: 'Rate exceeded' } as never);
}

/** Glue may not pass/assume the role (iam:PassRole missing or role absent). */
export function glueAccessDenied(role: string): Error {
  const message = `User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/${role}`;
  return new AccessDeniedException({ $metadata: metadata(400), message, Message: message } as never);
}
