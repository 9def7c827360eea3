/**
 * The WAL checkpointer of a bulk writer (pipeline/cache/wal-checkpointer.ts): copies committed
 * WAL frames into the cache file (PRAGMA wal_checkpoint(PASSIVE), which never blocks the writer)
 * on its own connection and thread, so that neither the writing thread nor the one encoding its
 * rows waits for that I/O (10M-row bench: 5 s of the encoder thread's time).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openCache } from './cache-db';
import type { CheckpointReply, CheckpointRequest } from './wal-checkpointer';

const port = parentPort!;
const db = openCache((workerData as { cacheFile: string }).cacheFile);
port.on('message', (message: CheckpointRequest) => {
  if (message.type === 'checkpoint') {
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      port.postMessage({ type: 'checkpointed', frames: result?.checkpointed ?? 0 } satisfies CheckpointReply);
    } catch (error) {
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies CheckpointReply);
    }
  } else if (message.type === 'close') {
    db.close();
    port.close();
  }
});
