/**
 * Parse-ahead thread of the local ETL (see parse-ahead.ts): reads and validates the raw files in
 * order and posts their batches to the writer, at most `credits` batches ahead of it.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { parseRawFile } from './raw-batches';
import type { ParseAheadData, ParseAheadMessage } from './parse-ahead';

const data = workerData as ParseAheadData & { port: MessagePort };
const sequence = new Int32Array(data.sequence);
const credits = new Int32Array(data.credits);

function post(message: ParseAheadMessage, transfer: ArrayBuffer[] = []): void {
  data.port.postMessage(message, transfer);
  Atomics.add(sequence, 0, 1);
  Atomics.notify(sequence, 0);
}

function takeCredit(): void {
  for (;;) {
    const have = Atomics.load(credits, 0);
    if (have > 0) {
      if (Atomics.compareExchange(credits, 0, have, have - 1) === have) return;
      continue;
    }
    Atomics.wait(credits, 0, have, 1000);
  }
}

for (let file = 0; file < data.paths.length; file++) {
  try {
    for (const batch of parseRawFile(data.paths[file] as string, data.ruleOptions)) {
      takeCredit();
      const valid = batch.valid;
      post({ type: 'batch', file, batch }, [valid.observed_ms.buffer as ArrayBuffer, valid.price.buffer as ArrayBuffer, valid.old_price.buffer as ArrayBuffer]);
    }
    post({ type: 'end', file });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    post({ type: 'error', file, name: err.name, message: err.message, code: (err as NodeJS.ErrnoException).code });
    break;
  }
}
