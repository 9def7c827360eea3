/**
 * The encoder thread of `pricedrop bench dashboard`: generates each transaction's rows (not
 * timed), then, when asked, encodes them in slices of whole days for the command's thread to
 * store (pipeline/cache/encoder-thread.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ColumnPool, createObservationEncoder, type CleanRow } from '../cache/observation-encoding';
import { createEncoderSide } from '../cache/encoder-thread';
import { benchBatches, type BenchDataOptions } from './bench-dashboard-data';

/** Command -> this thread, besides the store's messages. */
export type BenchEncoderRequest = { type: 'generate' } | { type: 'encode' };
/** This thread -> command, besides EncodedMessages. */
export type BenchEncoderReply = { type: 'generated'; rows: number } | { type: 'encoded-all' } | { type: 'error'; message: string };

const port = parentPort!;
const { data, sliceRows } = workerData as { data: BenchDataOptions; sliceRows: number };
const batches = benchBatches(data);
const pool = new ColumnPool();
const encoder = createObservationEncoder(undefined, undefined, { pool });
const side = createEncoderSide(port, encoder, { pool });
let batch: { rows: CleanRow[]; dayRows: number[] } = { rows: [], dayRows: [] };
const reply = (message: BenchEncoderReply) => port.postMessage(message);

port.on('message', (message: BenchEncoderRequest | { type: 'stored' }) => {
  if (side.receive(message)) return;
  void (async () => {
    try {
      if (message.type === 'generate') {
        batch = batches.next() ?? { rows: [], dayRows: [] };
        reply({ type: 'generated', rows: batch.rows.length });
      } else if (message.type === 'encode') {
        // Slices of whole days (at least sliceRows): each one's rows append to the cache's B-tree
        // (its key starts with the hour), as a raw file's do.
        let at = 0;
        let end = 0;
        for (const count of batch.dayRows) {
          end += count;
          if (end - at < sliceRows && end < batch.rows.length) continue;
          await side.send(encoder.encode(batch.rows.slice(at, end)));
          at = end;
        }
        batch = { rows: [], dayRows: [] };
        reply({ type: 'encoded-all' });
      }
    } catch (error) {
      reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
