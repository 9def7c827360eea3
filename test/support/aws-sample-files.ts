import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads one service's wire samples (test/fixtures/aws-<service>) as what the SDK v3 hands back:
 * epoch-second timestamps (the members named in `timestampKeys`) become Dates, `$metadata` is
 * added, absent keys stay absent. Shared by aws-athena-samples.ts and aws-glue-samples.ts.
 */
export function awsSampleFiles(dir: string, timestampKeys: readonly string[], requestId: string) {
  const timestamps = new Set(timestampKeys);
  const revive = (value: unknown, key = ''): unknown => {
    if (Array.isArray(value)) return value.map((item) => revive(item));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v, k)]));
    if (timestamps.has(key) && typeof value === 'number') return new Date(Math.round(value * 1000));
    return value;
  };
  const text = (file: string) => readFileSync(join(dir, file), 'utf8');
  /** The response metadata the SDK adds (error samples use 400). */
  const metadata = (status = 200) => ({ httpStatusCode: status, requestId, attempts: 1, totalRetryDelay: 0 });
  /** A success sample as SDK output. The mocks take whatever output the command returns; callers cast at the call site. */
  const output = <T = Record<string, unknown>>(file: string): T => ({ ...(revive(JSON.parse(text(file))) as Record<string, unknown>), $metadata: metadata() }) as T;
  return { text, metadata, output };
}
