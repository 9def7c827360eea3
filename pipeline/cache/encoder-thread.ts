/**
 * Two-thread ingest: an encoder on a worker thread turns cleaned rows into EncodedBatch columns
 * (observation-encoding.ts) while the thread that owns the cache connection only stores them
 * (createObservationStore). The store acknowledges each batch with the ids it gave the batch's new
 * products and descriptors; the encoder learns them and keeps at most MAX_IN_FLIGHT batches
 * unacknowledged, so after the first few batches they arrive fully coded and in key order, and
 * gives the batch's column buffers back for the next ones. Checkpoints run on a third thread
 * (wal-checkpointer.ts). docs/decisions/0009-two-thread-ingest.md, 0010-observation-blocks.md.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { batchBuffers, type ColumnPool, type EncodedBatch, type ObservationEncoder, type Resolved } from './observation-encoding';
import type { ObservationStore, WriteResult } from './observation-writer';

/**
 * Batches the encoder sends ahead of the store's acknowledgements: enough to keep the store busy
 * through a checkpoint on the encoder thread (10M-row bench: 8 halves the store's waits against 4,
 * 634 -> 318 ms), few enough that new ids are learned early (a batch with an unknown product
 * arrives unsorted, and the store sorts it).
 */
export const MAX_IN_FLIGHT = 8;

/** Encoder thread -> store thread. */
export interface EncodedMessage {
  type: 'encoded';
  batch: EncodedBatch;
}

/**
 * Store thread -> encoder thread: the oldest unacknowledged batch was stored; the ids of its new
 * products and descriptors (the encoder kept their names: learning from copies of the strings
 * made every later lookup compare characters), and its column buffers, for the next batches.
 */
export interface StoredMessage {
  type: 'stored';
  resolved: Resolved;
  buffers: ArrayBuffer[];
}


/** Store side: stores a batch inside the caller's transaction and acknowledges it to the encoder thread. */
export function storeEncoded(store: ObservationStore, batch: EncodedBatch, encoderThread: Worker): WriteResult {
  const { inserted, duplicates, resolved } = store.apply(batch);
  const buffers = batchBuffers(batch);
  const message: StoredMessage = { type: 'stored', resolved, buffers };
  encoderThread.postMessage(message, buffers);
  return { inserted, duplicates };
}

/**
 * The encoder thread's side: `send` posts a batch (columns transferred, not copied) once fewer
 * than MAX_IN_FLIGHT are unacknowledged; `receive` takes the store's messages (call it from the
 * port's message handler) and returns false for anything else. Returned buffers go to `pool`.
 */
export function createEncoderSide(port: MessagePort, encoder: ObservationEncoder, options: { pool?: ColumnPool } = {}) {
  const inFlight: Pick<EncodedBatch, 'newProducts' | 'newDescriptors'>[] = [];
  let wake: (() => void) | undefined;
  return {
    async send(batch: EncodedBatch): Promise<void> {
      while (inFlight.length >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
      inFlight.push({ newProducts: batch.newProducts, newDescriptors: batch.newDescriptors });
      const message: EncodedMessage = { type: 'encoded', batch };
      port.postMessage(message, batchBuffers(batch));
    },
    receive(message: { type?: unknown }): boolean {
      if (message.type === 'stored') {
        const stored = message as StoredMessage;
        const names = inFlight.shift();
        if (names === undefined) throw new Error('encoder thread: a stored batch that was never sent');
        encoder.learn(names, stored.resolved);
        options.pool?.give(stored.buffers);
        const w = wake;
        wake = undefined;
        w?.();
        return true;
      }
      return false;
    },
  };
}
