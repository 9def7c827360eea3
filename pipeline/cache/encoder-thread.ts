/**
 * Two-thread ingest: an encoder on a worker thread turns cleaned rows into EncodedBatch columns
 * (observation-encoding.ts) while the thread that owns the cache connection only stores them
 * (createObservationStore). The store acknowledges each batch with the ids it gave the batch's new
 * products and descriptors; the encoder learns them and keeps at most MAX_IN_FLIGHT batches
 * unacknowledged, so after the first few batches they arrive fully coded and in key order.
 * The encoder thread also runs the WAL checkpoints, on a connection of its own, while the store
 * goes on writing. docs/decisions/0009-two-thread-ingest.md.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { batchBuffers, type EncodedBatch, type ObservationEncoder, type Resolved } from './observation-encoding';
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

/** Store thread -> encoder thread: a batch was stored; its new products' and descriptors' ids. */
export interface StoredMessage {
  type: 'stored';
  names: Pick<EncodedBatch, 'newProducts' | 'newDescriptors'>;
  resolved: Resolved;
}

/** Store thread -> encoder thread: a transaction committed; checkpoint the WAL (PASSIVE) if it can. */
export interface CheckpointMessage {
  type: 'checkpoint';
}

/** Store side: stores a batch inside the caller's transaction and acknowledges it to the encoder thread. */
export function storeEncoded(store: ObservationStore, batch: EncodedBatch, encoderThread: Worker): WriteResult {
  const { inserted, duplicates, resolved } = store.apply(batch);
  const message: StoredMessage = { type: 'stored', names: { newProducts: batch.newProducts, newDescriptors: batch.newDescriptors }, resolved };
  encoderThread.postMessage(message);
  return { inserted, duplicates };
}

/**
 * The encoder thread's side: `send` posts a batch (columns transferred, not copied) once fewer
 * than MAX_IN_FLIGHT are unacknowledged; `receive` takes the store's messages (call it from the
 * port's message handler) and returns false for anything else. `checkpoint` runs on a
 * 'checkpoint' message.
 */
export function createEncoderSide(port: MessagePort, encoder: ObservationEncoder, checkpoint?: () => void) {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  return {
    async send(batch: EncodedBatch): Promise<void> {
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
      inFlight++;
      const message: EncodedMessage = { type: 'encoded', batch };
      port.postMessage(message, batchBuffers(batch));
    },
    receive(message: { type?: unknown }): boolean {
      if (message.type === 'stored') {
        const stored = message as StoredMessage;
        encoder.learn(stored.names, stored.resolved);
        inFlight--;
        const w = wake;
        wake = undefined;
        w?.();
        return true;
      }
      if (message.type === 'checkpoint') {
        checkpoint?.();
        return true;
      }
      return false;
    },
  };
}
