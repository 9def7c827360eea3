/**
 * Two-thread ingest: an encoder on a worker thread turns cleaned rows into EncodedBatch columns
 * (observation-encoding.ts) while the thread that owns the cache connection only stores them
 * (createObservationStore). The store answers each batch's new products and descriptors with
 * their ids, which the encoder learns, so later batches arrive fully coded and in key order.
 * docs/decisions/0009-two-thread-ingest.md.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { batchBuffers, type EncodedBatch, type ObservationEncoder, type Resolved } from './observation-encoding';
import type { ObservationStore, WriteResult } from './observation-writer';

/** Encoder thread -> store thread. */
export interface EncodedMessage {
  type: 'encoded';
  batch: EncodedBatch;
}

/** Store thread -> encoder thread. */
export interface LearnMessage {
  type: 'learn';
  names: Pick<EncodedBatch, 'newProducts' | 'newDescriptors'>;
  resolved: Resolved;
}

/** Encoder side: sends a batch, its columns transferred (not copied). */
export function postEncoded(port: MessagePort, batch: EncodedBatch): void {
  const message: EncodedMessage = { type: 'encoded', batch };
  port.postMessage(message, batchBuffers(batch));
}

/** Encoder side: learns the ids in a LearnMessage; false for any other message. */
export function learnFrom(encoder: ObservationEncoder, message: { type?: unknown }): boolean {
  if (message.type !== 'learn') return false;
  const learn = message as LearnMessage;
  encoder.learn(learn.names, learn.resolved);
  return true;
}

/** Store side: stores a batch inside the caller's transaction and tells the encoder the new ids. */
export function storeEncoded(store: ObservationStore, batch: EncodedBatch, encoderThread: Worker): WriteResult {
  const { inserted, duplicates, resolved } = store.apply(batch);
  if (resolved.products.length > 0 || resolved.descriptors.length > 0) {
    const message: LearnMessage = { type: 'learn', names: { newProducts: batch.newProducts, newDescriptors: batch.newDescriptors }, resolved };
    encoderThread.postMessage(message);
  }
  return { inserted, duplicates };
}

/** Lets queued messages (the store's LearnMessages) in between two batches. */
export function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
