import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sink } from './sink';
import { abortableSleep } from './source';
import { isNoSpace, noSpaceError } from '../pipeline/base/disk-full';

/**
 * The on-disk spool: every sealed batch is written here (temp file + rename, so a kill leaves
 * either the whole batch or nothing) before any upload, and removed only after the sink confirms.
 * A restarted producer finds the leftovers and uploads them first. One spool folder per sink.
 *
 * File name: `<seq 12 digits>_<records>_<encodeURIComponent(key)>.batch`.
 */
export interface SpoolEntry {
  file: string;
  seq: number;
  records: number;
  key: string;
  bytes: number;
}

export class Spool {
  private readonly queue: SpoolEntry[] = [];
  private nextSeq = 1;
  private totalBytes = 0;

  private constructor(readonly dir: string) {}

  /** Opens (creating) a spool folder, drops torn temp files and queues the batches left by an earlier run. */
  static async open(dir: string): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    const spool = new Spool(dir);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith('.tmp')) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      const match = /^(\d{12})_(\d+)_(.+)\.batch$/.exec(name);
      if (!match) continue;
      const seq = Number(match[1]);
      const bytes = (await stat(path)).size;
      spool.queue.push({ file: path, seq, records: Number(match[2]), key: decodeURIComponent(match[3]!), bytes });
      spool.totalBytes += bytes;
      spool.nextSeq = Math.max(spool.nextSeq, seq + 1);
    }
    return spool;
  }

  /**
   * Durably adds a batch (as far as the OS page cache goes: a kill -9 cannot tear it). On a full
   * disk it removes its partial temp file and throws NoSpaceError: the caller has not committed the
   * batch's source position, so the next run reads those records again.
   */
  async add(key: string, body: Buffer, records: number): Promise<SpoolEntry> {
    const seq = this.nextSeq++;
    const file = join(this.dir, `${String(seq).padStart(12, '0')}_${records}_${encodeURIComponent(key)}.batch`);
    const temp = `${file}.tmp`;
    try {
      await writeFile(temp, body);
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (isNoSpace(error)) {
        throw noSpaceError(error, `the producer's spool (${this.dir})`, `a batch of ${records} records could not be spooled and its source position was not committed; the spooled batches are kept, and the next run resumes from the last committed position`);
      }
      throw error;
    }
    const entry = { file, seq, records, key, bytes: body.length };
    this.queue.push(entry);
    this.totalBytes += body.length;
    return entry;
  }

  /** Takes the oldest batch not yet handed out (the caller uploads it, then calls `remove`). */
  take(): SpoolEntry | undefined {
    return this.queue.shift();
  }

  /** Puts a batch back at the head of the queue (upload abandoned at shutdown). */
  giveBack(entry: SpoolEntry): void {
    this.queue.unshift(entry);
  }

  read(entry: SpoolEntry): Promise<Buffer> {
    return readFile(entry.file);
  }

  async remove(entry: SpoolEntry): Promise<void> {
    await unlink(entry.file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.totalBytes -= entry.bytes;
  }

  /** Batches waiting (not counting those being uploaded). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Bytes on disk, including batches being uploaded. */
  get bytes(): number {
    return this.totalBytes;
  }
}

export interface DrainOptions {
  concurrency: number;
  onDelivered(entry: SpoolEntry): void;
  onRetry(error: unknown, attempt: number, delayMs: number): void;
  /**
   * Errors that retrying cannot cure (a full lake disk): the batch goes back to the spool, the
   * drain stops taking batches, and `onFatal` is told once. Default: every error is retried.
   */
  isFatal?(error: unknown): boolean;
  onFatal?(error: unknown): void;
  /** Longest wait between retries of one batch. */
  maxBackoffMs?: number;
}

export interface Drain {
  /** Wakes the workers after `Spool.add`. */
  notify(): void;
  /** Resolves when nothing is waiting or in flight. */
  idle(): Promise<void>;
  /** Stops taking new batches and cuts retry waits short; in-flight puts are given `graceMs` to finish. */
  stop(graceMs: number): Promise<void>;
  readonly inFlight: number;
}

/**
 * Uploads spooled batches with `concurrency` workers. A failed put is retried forever with
 * exponential backoff and full jitter (250 ms doubling, capped at `maxBackoffMs`, default 15 s):
 * an unreachable store makes the spool grow, never drops a batch. A fatal error (`isFatal`) stops
 * the drain with every batch still in the spool.
 */
export function startDrain(spool: Spool, sink: Sink, options: DrainOptions): Drain {
  let stopped = false;
  let fatal = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let wakePromise = new Promise<void>((resolve) => (wake = resolve));
  const idleWaiters: (() => void)[] = [];
  const stopController = new AbortController();
  const maxBackoff = options.maxBackoffMs ?? 15_000;

  function notify() {
    const resolve = wake;
    wakePromise = new Promise<void>((next) => (wake = next));
    resolve?.();
  }

  function checkIdle() {
    if (inFlight === 0 && spool.waiting === 0) while (idleWaiters.length) idleWaiters.shift()!();
  }

  async function upload(entry: SpoolEntry): Promise<boolean> {
    const body = await spool.read(entry);
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.put(entry.key, body);
        return true;
      } catch (error) {
        if (stopped) return false;
        if (options.isFatal?.(error)) {
          if (!fatal) {
            fatal = true;
            stopped = true;
            stopController.abort();
            notify();
            options.onFatal?.(error);
          }
          return false;
        }
        const delay = Math.round(Math.min(maxBackoff, 250 * 2 ** Math.min(attempt - 1, 16)) * (0.5 + Math.random() * 0.5));
        options.onRetry(error, attempt, delay);
        await abortableSleep(delay, stopController.signal);
        if (stopped) return false;
      }
    }
  }

  async function worker(): Promise<void> {
    while (!stopped) {
      const entry = spool.take();
      if (!entry) {
        checkIdle();
        await wakePromise;
        continue;
      }
      inFlight++;
      try {
        if (await upload(entry)) {
          await spool.remove(entry);
          options.onDelivered(entry);
        } else spool.giveBack(entry);
      } finally {
        inFlight--;
      }
    }
  }

  const workers = Array.from({ length: Math.max(1, options.concurrency) }, () => worker());

  return {
    notify,
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    async stop(graceMs) {
      stopped = true;
      stopController.abort();
      notify();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(workers), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    },
    get inFlight() {
      return inFlight;
    },
  };
}
