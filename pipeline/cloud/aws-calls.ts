/**
 * How PriceDrop calls AWS: typed errors that carry the service's own message, and retries with
 * backoff on throttling. The SDK already retries throttling 3 times (standard mode); this layer
 * adds patience on top for long-running orchestration, where giving up after ~1 s is wrong.
 * (aws-sdk-client-mock bypasses the SDK's retries, so tests see a throttle at once.)
 */

/** An AWS call failed: `code` is the service's error name, `serviceMessage` its text, verbatim. */
export class AwsCallError extends Error {
  override name = 'AwsCallError';
  constructor(
    readonly operation: string,
    readonly code: string,
    readonly serviceMessage: string,
    readonly httpStatus: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${operation} failed: ${code}: ${serviceMessage}`, options);
  }
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded', 'ProvisionedThroughputExceededException', 'RequestThrottled', 'RequestThrottledException']);

interface ServiceErrorShape {
  name?: string;
  message?: string;
  Message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** The error name (e.g. `EntityNotFoundException`) of an SDK error, or undefined. */
export function awsErrorCode(error: unknown): string | undefined {
  if (error instanceof AwsCallError) return error.code;
  if (typeof error === 'object' && error !== null && 'name' in error) return String((error as ServiceErrorShape).name);
  return undefined;
}

export function isThrottling(error: unknown): boolean {
  const shaped = error as ServiceErrorShape | undefined;
  return THROTTLING.has(awsErrorCode(error) ?? '') || shaped?.$retryable?.throttling === true || shaped?.$metadata?.httpStatusCode === 429;
}

export interface RetryOptions {
  /** Attempts in all (first call included). Default 6. */
  attempts?: number;
  /** First backoff, doubled each time with full jitter, capped at maxDelayMs. Default 500 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { operation: string; attempt: number; delayMs: number }) => void;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one AWS call, retrying throttling with exponential backoff and full jitter; any other
 * error (or throttling past the last attempt) becomes an AwsCallError with the service's message.
 */
export async function callAws<T>(operation: string, call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 20_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (isThrottling(error) && attempt < attempts) {
        const delayMs = Math.round(random() * Math.min(max, base * 2 ** (attempt - 1)));
        options.onRetry?.({ operation, attempt, delayMs });
        await sleep(delayMs);
        continue;
      }
      throw toAwsCallError(operation, error);
    }
  }
}

export function toAwsCallError(operation: string, error: unknown): AwsCallError | Error {
  if (error instanceof AwsCallError) return error;
  const shaped = error as ServiceErrorShape | undefined;
  if (typeof error === 'object' && error !== null && (shaped?.$metadata !== undefined || '$fault' in error)) {
    const message = shaped?.message || shaped?.Message || String(shaped?.name ?? 'unknown error');
    return new AwsCallError(operation, String(shaped?.name ?? 'Error'), message, shaped?.$metadata?.httpStatusCode, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
