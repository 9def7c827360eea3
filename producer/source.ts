import type { RawRecord } from '../pipeline/base/raw-format';

/** A record a source could not turn into a RawRecord: kept with the reason, never silently dropped. */
export interface RejectedRecord {
  reason: string;
  /** The offending payload as received (serialised into the rejected-records file). */
  raw: unknown;
}

/**
 * What a source yields: records in the order they were observed, plus optional bookkeeping.
 * Sources yield chunks rather than single records so the hot path costs one await per chunk.
 */
export interface SourceChunk {
  records: RawRecord[];
  rejected?: RejectedRecord[];
  /**
   * An opaque resume position, valid once every record of this chunk (and of all earlier chunks)
   * is safely in the spool. The runner hands it to `Source.commit` at that moment.
   */
  checkpoint?: unknown;
  /** Seal the open batch after this chunk (e.g. the end of a backfill), whatever its size. */
  seal?: boolean;
}

export interface SourceContext {
  signal: AbortSignal;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Counts one retried request (429, 5xx, timeout) into the run summary. */
  countRetry(): void;
  /** Resolves after `ms`, or early (without throwing) when the run is aborted. */
  sleep(ms: number): Promise<void>;
}

/** A price source: an async stream of chunks, ended when the source is exhausted or the run aborted. */
export interface Source {
  readonly name: string;
  read(context: SourceContext): AsyncIterable<SourceChunk>;
  /** Persists a checkpoint yielded earlier; called in order, after the chunk is spooled. */
  commit?(checkpoint: unknown): Promise<void>;
}

/** Sleeps `ms`, resolving early when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
