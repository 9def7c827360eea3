import { resolve } from 'node:path';
import { AthenaServiceException, InvalidRequestException, TooManyRequestsException } from '@aws-sdk/client-athena';
import { awsSampleFiles } from './aws-sample-files';

/**
 * Athena wire samples (test/fixtures/aws-athena, copied from ../shared/aws-samples/athena) as
 * what the SDK v3 hands back: epoch-second timestamps become Dates, `$metadata` is added,
 * absent keys stay absent. Errors are the SDK's own exception classes with the sample's message.
 */
const samples = awsSampleFiles(resolve(import.meta.dirname, '../fixtures/aws-athena'), ['SubmissionDateTime', 'CompletionDateTime'], '2b6f0c4e-9d1a-4c3b-8e7f-5a6b7c8d9e0f');
const metadata = samples.metadata;

/** A success sample as SDK output. */
export function athenaOutput<T = Record<string, unknown>>(file: string): T {
  return samples.output<T>(file);
}

/** An execution sample with its id (and optionally statistics) replaced. */
export function executionWith(file: string, patch: { QueryExecutionId?: string; Statistics?: Record<string, unknown> }) {
  const out = athenaOutput<{ QueryExecution: Record<string, unknown> }>(file);
  const execution: Record<string, unknown> = { ...out.QueryExecution, ...(patch.QueryExecutionId ? { QueryExecutionId: patch.QueryExecutionId } : {}) };
  if (patch.Statistics) execution.Statistics = { ...(execution.Statistics as object), ...patch.Statistics };
  return { ...out, QueryExecution: execution };
}

/** An error sample (`{"__type", "Message", ...}`) as the SDK's exception. */
export function athenaError(file: string): Error {
  const body = JSON.parse(samples.text(file)) as { __type: string; Message?: string; message?: string; AthenaErrorCode?: string; Reason?: string };
  const message = body.Message ?? body.message ?? '';
  if (body.__type === 'InvalidRequestException') {
    return new InvalidRequestException({ $metadata: metadata(400), message, Message: message, AthenaErrorCode: body.AthenaErrorCode } as never);
  }
  if (body.__type === 'TooManyRequestsException') {
    return new TooManyRequestsException({ $metadata: metadata(400), message, Message: message, Reason: body.Reason } as never);
  }
  // ThrottlingException is not in Athena's model: the SDK surfaces a generic service exception with that name.
  return new AthenaServiceException({ name: body.__type, $fault: 'client', $metadata: metadata(400), message } as never);
}
