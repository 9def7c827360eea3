import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { lakeDir } from '../pipeline/base/lake-layout';
import { encodeRawBatch, rawBatchKey, type RawRecord } from '../pipeline/base/raw-format';
import { createSink, type Sink } from './sink';
import { abortableSleep, type RejectedRecord, type Source, type SourceContext } from './source';
import { Spool, startDrain } from './spool';
import { isNoSpace, noSpaceError } from '../pipeline/base/disk-full';
import { createSource, type SourceOptions } from './sources';

/** Everything a producer run needs. Defaults: see `PRODUCER_DEFAULTS`. */
export interface ProducerOptions extends SourceOptions {
  /** The workspace: holds the spool, checkpoints and the rejected-records file (and the default lake). */
  workspace: string;
  /** A lake folder or `s3://BUCKET/PREFIX`; default `<workspace>/lake`. */
  sink?: string;
  s3Endpoint?: string;
  s3Region?: string;
  /** Seal a batch at this many records. */
  batchSize?: number;
  /** Seal a non-empty batch this long after its first record. */
  batchAgeMs?: number;
  /** Stop once this many records were emitted, then deliver them and return. */
  maxRecords?: number;
  /** Above this spool size the source is paused (with a warning) until uploads catch up. */
  spoolMaxMb?: number;
  /** Parallel uploads from the spool. */
  uploadConcurrency?: number;
  /** After an abort (SIGTERM), how long to keep trying to deliver the spool before returning. */
  shutdownGraceMs?: number;
  /** Injected sink (tests, bench); otherwise made from `sink`. */
  sinkInstance?: Sink;
}

export const PRODUCER_DEFAULTS = {
  batchSize: 10_000,
  batchAgeMs: 5_000,
  spoolMaxMb: 512,
  uploadConcurrency: 4,
  shutdownGraceMs: 10_000,
} as const;

/** The run summary, also printed by `pricedrop produce --json`. */
export interface ProducerSummary {
  /** Records confirmed by the sink during this run (leftovers from an earlier run included). */
  records: number;
  batches: number;
  /** CSV bytes confirmed by the sink. */
  bytes: number;
  rejected: number;
  /** Retried requests (source HTTP and sink uploads). */
  retries: number;
}

export interface ProducerProgress extends ProducerSummary {
  /** Records taken from the source so far. */
  emitted: number;
  spooledBatches: number;
  spooledBytes: number;
}

export interface BatchDelivered {
  key: string;
  records: number;
  bytes: number;
}

export interface ProducerHooks {
  onProgress?(progress: ProducerProgress): void;
  onBatch?(batch: BatchDelivered): void;
  onLog?(level: 'info' | 'warn' | 'error', message: string): void;
  /** Abort = graceful stop: the open batch is sealed and delivered (within the grace period). */
  signal?: AbortSignal;
}

interface OpenBatch {
  records: RawRecord[];
  day: string;
  openedAt: number;
  /** The last checkpoint whose chunk is entirely in this batch or earlier ones. */
  checkpoint: unknown;
}

/**
 * Runs one producer until the source ends, `maxRecords` is reached or `hooks.signal` aborts.
 *
 * Delivery contract (at least once): a batch is sealed into the spool before any upload and
 * removed only after the sink confirms it; a source checkpoint is committed only after the
 * batches holding its records are spooled. A kill at any moment therefore loses nothing: the
 * next run uploads the spool leftovers and resumes the source at its last checkpoint. Object keys
 * are derived from batch contents, so a re-sent batch overwrites itself; the remaining duplicates
 * (records re-read after the last checkpoint) share (source, product_id, observed_at) and are
 * removed downstream.
 */
export async function runProducer(options: ProducerOptions, hooks: ProducerHooks = {}): Promise<ProducerSummary> {
  const log = hooks.onLog ?? (() => undefined);
  // Aborted by the caller (a graceful stop), or by the run itself when the lake's disk is full.
  const halt = new AbortController();
  const signal = hooks.signal ? AbortSignal.any([hooks.signal, halt.signal]) : halt.signal;
  let lakeFull: unknown;
  const batchSize = options.batchSize ?? PRODUCER_DEFAULTS.batchSize;
  const batchAgeMs = options.batchAgeMs ?? PRODUCER_DEFAULTS.batchAgeMs;
  const spoolMaxBytes = (options.spoolMaxMb ?? PRODUCER_DEFAULTS.spoolMaxMb) * 1024 * 1024;
  const maxRecords = options.maxRecords ?? Infinity;
  const sink = options.sinkInstance ?? createSink({ sink: options.sink ?? lakeDir(options.workspace), s3Endpoint: options.s3Endpoint, s3Region: options.s3Region });
  const source: Source = createSource(options, { workspace: options.workspace, sinkId: sink.id });
  const stateDir = join(options.workspace, 'producer');
  const spool = await Spool.open(join(stateDir, 'spool', sink.id));
  const rejectedFile = join(stateDir, 'rejected.jsonl');
  const summary: ProducerSummary = { records: 0, batches: 0, bytes: 0, rejected: 0, retries: 0 };
  let emitted = 0;

  if (spool.waiting > 0) log('info', `resuming: ${spool.waiting} spooled batches (${formatMb(spool.bytes)}) from an earlier run go first`);
  log('info', `producer: source ${options.source}, sink ${sink.location}`);

  let lastProgress = 0;
  function progress(force = false) {
    const now = Date.now();
    if (!hooks.onProgress || (!force && now - lastProgress < 500)) return;
    lastProgress = now;
    hooks.onProgress({ ...summary, emitted, spooledBatches: spool.waiting + drain.inFlight, spooledBytes: spool.bytes });
  }

  let unreachableSince = 0;
  let lastUnreachableLog = 0;
  const drain = startDrain(spool, sink, {
    concurrency: options.uploadConcurrency ?? PRODUCER_DEFAULTS.uploadConcurrency,
    onDelivered(entry) {
      summary.records += entry.records;
      summary.batches++;
      summary.bytes += entry.bytes;
      if (unreachableSince) {
        log('info', `store reachable again after ${Math.round((Date.now() - unreachableSince) / 1000)} s; draining ${spool.waiting} spooled batches`);
        unreachableSince = 0;
      }
      hooks.onBatch?.({ key: entry.key, records: entry.records, bytes: entry.bytes });
      progress();
    },
    // A full local lake is not an outage that passes by itself: stop, keeping every batch in the spool.
    isFatal: isNoSpace,
    onFatal(error) {
      lakeFull = error;
      halt.abort();
    },
    onRetry(error, attempt) {
      summary.retries++;
      const now = Date.now();
      if (!unreachableSince) unreachableSince = now;
      if (now - lastUnreachableLog > 30_000 || attempt === 1) {
        lastUnreachableLog = now;
        log('warn', `store ${sink.location} not accepting batches (${describeError(error)}); ${spool.waiting + drain.inFlight} batches (${formatMb(spool.bytes)}) kept in the spool, retrying`);
      }
    },
  });

  const context: SourceContext = {
    signal,
    log,
    countRetry: () => void summary.retries++,
    sleep: (ms) => abortableSleep(ms, signal),
  };

  let open: OpenBatch | undefined;
  let committed: unknown;
  let writing: Promise<void> = Promise.resolve();
  let spoolFullWarned = false;

  /** Seals the open batch into the spool; serialised so checkpoints commit in order. */
  function seal(): Promise<void> {
    const batch = open;
    open = undefined;
    if (!batch || batch.records.length === 0) return writing;
    writing = writing.then(async () => {
      while (spool.bytes >= spoolMaxBytes && !signal.aborted) {
        if (!spoolFullWarned) {
          log('warn', `spool full: ${formatMb(spool.bytes)} waiting for ${sink.location} (limit --spool-max-mb ${formatMb(spoolMaxBytes)}); pausing the source until uploads catch up`);
          spoolFullWarned = true;
        }
        await Promise.race([drain.idle(), abortableSleep(250, signal)]);
      }
      spoolFullWarned = false;
      const body = Buffer.from(encodeRawBatch(batch.records), 'utf8');
      const first = batch.records[0]!;
      const name = `${safeName(first.source)}-${first.observed_at.replace(/[-:.]/g, '')}-${createHash('sha1').update(body).digest('hex').slice(0, 16)}`;
      await spool.add(rawBatchKey(batch.day, name), body, batch.records.length);
      drain.notify();
      await commit(batch.checkpoint);
    });
    return writing;
  }

  /** Hands a checkpoint to the source, unless it is the one committed last; runs on the write queue. */
  async function commit(checkpoint: unknown): Promise<void> {
    if (checkpoint === undefined || checkpoint === committed || !source.commit) return;
    await source.commit(checkpoint);
    committed = checkpoint;
  }

  async function reject(items: readonly RejectedRecord[]) {
    summary.rejected += items.length;
    await mkdir(stateDir, { recursive: true });
    const at = new Date().toISOString();
    const lines = items.map((item) => JSON.stringify({ at, source: options.source, reason: item.reason, raw: item.raw })).join('\n') + '\n';
    await appendFile(rejectedFile, lines);
    log('warn', `rejected ${items.length} malformed record(s) from ${options.source}: ${items[0]!.reason} (see ${rejectedFile})`);
  }

  const ageTimer = setInterval(() => {
    if (open && Date.now() - open.openedAt >= batchAgeMs) void seal().catch(() => undefined);
  }, Math.max(50, Math.min(1000, Math.floor(batchAgeMs / 4))));

  let failure: unknown;
  try {
    for await (const chunk of source.read(context)) {
      if (chunk.rejected?.length) await reject(chunk.rejected);
      let records = chunk.records;
      const room = maxRecords - emitted;
      const truncated = records.length > room;
      if (truncated) records = records.slice(0, Math.max(0, room));
      for (const record of records) {
        const day = record.observed_at.slice(0, 10);
        if (open && (open.day !== day || open.records.length >= batchSize)) await seal();
        open ??= { records: [], day, openedAt: Date.now(), checkpoint: undefined };
        open.records.push(record);
      }
      emitted += records.length;
      if (!truncated && chunk.checkpoint !== undefined) {
        if (open) open.checkpoint = chunk.checkpoint;
        else {
          // Every record of this chunk is already sealed: the checkpoint rides on the write queue.
          const checkpoint = chunk.checkpoint;
          writing = writing.then(() => commit(checkpoint));
        }
      }
      if (chunk.seal || (open && open.records.length >= batchSize)) await seal();
      progress();
      if (emitted >= maxRecords || signal.aborted) break;
    }
  } catch (error) {
    if (!signal.aborted) failure = error;
  } finally {
    clearInterval(ageTimer);
  }

  try {
    await seal();
  } catch (error) {
    failure ??= error;
  }
  if (lakeFull !== undefined) {
    // The drain has stopped: nothing more reaches the lake in this run; the spool keeps it all.
    await drain.stop(1_000);
    failure = noSpaceError(
      lakeFull,
      `the lake (${sink.location})`,
      `${spool.waiting} batches (${formatMb(spool.bytes)}) are kept in the spool (${spool.dir}) and delivered first by the next run${failure && failure !== lakeFull ? `; also: ${describeError(failure)}` : ''}`,
    );
  } else if (signal.aborted || failure) {
    const grace = options.shutdownGraceMs ?? PRODUCER_DEFAULTS.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    const delivered = await Promise.race([drain.idle().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), grace)))]);
    clearTimeout(timer);
    if (!delivered) log('warn', `stopping with ${spool.waiting + drain.inFlight} batches (${formatMb(spool.bytes)}) still in the spool; the next run delivers them`);
  } else if (!failure) {
    await drain.idle();
  }
  await drain.stop(1_000);
  sink.close();
  progress(true);
  if (failure) throw failure;
  return summary;
}

function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'source';
}

function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const inner = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name}${code ? ` ${code}` : ''}: ${error.message || '(no message)'}${inner}`;
  }
  return String(error);
}
