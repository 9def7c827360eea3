/**
 * Checkpoints for bulk writes on a thread of their own (wal-checkpoint.worker.ts): `request()`
 * after each commit copies the committed WAL frames into the cache file while the writer goes on
 * with the next transaction; requests made while one runs are merged into one more run.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../runtime/worker-threads';

export type CheckpointRequest = { type: 'checkpoint' } | { type: 'close' };
export type CheckpointReply = { type: 'checkpointed'; frames: number } | { type: 'error'; message: string };

export interface WalCheckpointer {
  /** Asks for a checkpoint of what has committed so far. */
  request(): void;
  /** Resolves once no checkpoint runs or is asked for; rejects with a checkpoint's error. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function startWalCheckpointer(cacheFile: string): WalCheckpointer {
  const worker: Worker = startWorker(new URL('./wal-checkpoint.worker.ts', import.meta.url), { workerData: { cacheFile } });
  let running = false;
  let again = false;
  let failure: Error | undefined;
  let waiters: (() => void)[] = [];
  const settle = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const run = () => {
    running = true;
    again = false;
    worker.postMessage({ type: 'checkpoint' } satisfies CheckpointRequest);
  };
  worker.on('message', (reply: CheckpointReply) => {
    if (reply.type === 'error') failure ??= new Error(`WAL checkpoint: ${reply.message}`);
    running = false;
    if (again && failure === undefined) run();
    else settle();
  });
  worker.on('error', (error) => {
    failure ??= error;
    running = false;
    settle();
  });
  return {
    request() {
      if (running) again = true;
      else run();
    },
    idle() {
      if (!running) return failure ? Promise.reject(failure) : Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve)).then(() => {
        if (failure) throw failure;
      });
    },
    async close() {
      await this.idle().catch(() => undefined);
      worker.postMessage({ type: 'close' } satisfies CheckpointRequest);
      await worker.terminate();
    },
  };
}
