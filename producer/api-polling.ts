import type { RawRecord } from '../pipeline/base/raw-format';
import { HttpClient } from './http-client';
import type { RejectedRecord, Source, SourceChunk, SourceContext } from './source';
import type { SourceOptions } from './sources';

/** One pass through an API's catalogue; yields chunks (usually one per page). */
export type CatalogueWalk = (http: HttpClient, observedAt: string, context: SourceContext) => AsyncGenerator<SourceChunk>;

export const API_DEFAULTS = {
  intervalSeconds: 300,
  concurrency: 2,
  ratePerSecond: 2,
  timeoutMs: 15_000,
  maxRetries: 5,
} as const;

/**
 * An API source: walks the catalogue, then waits `--interval` and walks it again, until aborted
 * (or after one walk with `--once`). Every record of a walk carries the walk's start time as
 * observed_at. A walk that fails (retries exhausted, 4xx) is logged and retried at the next poll;
 * with `--once` the failure ends the run with an error, after what was read is delivered.
 */
export function createPollingSource(name: string, options: SourceOptions, walk: CatalogueWalk, redact?: (url: string) => string): Source {
  const intervalMs = (options.intervalSeconds ?? API_DEFAULTS.intervalSeconds) * 1000;
  return {
    name,
    async *read(context) {
      const http = new HttpClient({
        ratePerSecond: options.ratePerSecond ?? API_DEFAULTS.ratePerSecond,
        timeoutMs: options.timeoutMs ?? API_DEFAULTS.timeoutMs,
        maxRetries: options.maxRetries ?? API_DEFAULTS.maxRetries,
        signal: context.signal,
        redact,
        onRetry(reason, delayMs) {
          context.countRetry();
          context.log('warn', `${name}: ${reason}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
        },
      });
      while (!context.signal.aborted) {
        const started = Date.now();
        const observedAt = new Date(started).toISOString();
        try {
          yield* walk(http, observedAt, context);
        } catch (error) {
          if (context.signal.aborted) return;
          if (options.once) throw error;
          context.log('error', `${name}: poll failed (${error instanceof Error ? error.message : String(error)}); next poll in ${Math.round(intervalMs / 1000)} s`);
        }
        if (options.once) return;
        await context.sleep(Math.max(0, started + intervalMs - Date.now()));
      }
    },
  };
}

/** Joins a base URL (with or without a trailing slash, maybe with a path) and a path. */
export function apiUrl(base: string, path: string, query: Record<string, string | number> = {}): string {
  const url = new URL(base.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
  return url.toString();
}

/**
 * A page of API items as a chunk: `toRecord` turns an item into a record or returns why it cannot;
 * an item that is not an object is rejected as such. A rejected item keeps its payload.
 */
export function itemsToChunk(items: readonly unknown[], toRecord: (item: Record<string, unknown>) => RawRecord | string): { records: RawRecord[]; rejected: RejectedRecord[] } {
  const records: RawRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const item of items) {
    const made = isObject(item) ? toRecord(item) : 'not an object';
    if (typeof made === 'string') rejected.push({ reason: made, raw: item });
    else records.push(made);
  }
  return { records, rejected };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An id as a string: a non-empty string or a finite number; undefined otherwise. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}

/** A price from a JSON number or numeric string (Shopify sends strings); undefined when not a non-negative number. */
export function priceOf(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

export function roundMoney(value: number): number {
  return Math.round(value * 100) / 100;
}
