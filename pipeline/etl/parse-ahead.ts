import { MessageChannel, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { startWorker } from '../base/worker-threads';
import type { RuleOptions } from '../base/price-rules';
import { parseRawFile, type ParsedBatch } from './raw-batches';

/**
 * Where the ETL's writer gets a file's parsed batches. Files are asked for in increasing order;
 * a file may be abandoned part-way (the next ask skips its remaining batches).
 */
export interface BatchSource {
  batches(fileIndex: number): Iterable<ParsedBatch>;
  close(): void;
}

/** Parsing on the writer's own thread: small runs (a producer batch every few seconds). */
export function inThreadSource(paths: readonly string[], ruleOptions: RuleOptions): BatchSource {
  return {
    batches: (fileIndex) => parseRawFile(paths[fileIndex] as string, ruleOptions),
    close: () => undefined,
  };
}

export interface ParseAheadData {
  paths: string[];
  ruleOptions: RuleOptions;
  /** Int32: bumped by the parser after each message (the writer waits on it). */
  sequence: SharedArrayBuffer;
  /** Int32: batches the parser may still post before the writer takes one. */
  credits: SharedArrayBuffer;
}

export type ParseAheadMessage =
  | { type: 'batch'; file: number; batch: ParsedBatch }
  | { type: 'end'; file: number }
  | { type: 'error'; file: number; name: string; message: string; code?: string };

/** Batches parsed ahead: bounds the memory the parser may fill (6 × 8,192 rows). */
const CREDITS = 6;
/** No message for this long means the parser died (it posts every error it can catch). */
const SILENCE_LIMIT_MS = 120_000;

/**
 * Parsing and validation on a second thread, ahead of the writer (which keeps SQLite busy):
 * measured on 1M rows, they are about a third of the ETL's CPU. The writer reads the batches
 * synchronously (receiveMessageOnPort + Atomics.wait), so its loop and transactions stay simple.
 */
export function parseAheadSource(paths: readonly string[], ruleOptions: RuleOptions): BatchSource {
  const channel = new MessageChannel();
  const sequence = new Int32Array(new SharedArrayBuffer(4));
  const credits = new Int32Array(new SharedArrayBuffer(4));
  credits[0] = CREDITS;
  const data: ParseAheadData = { paths: [...paths], ruleOptions, sequence: sequence.buffer as SharedArrayBuffer, credits: credits.buffer as SharedArrayBuffer };
  const worker: Worker = startWorker(new URL('./raw-parse.worker.ts', import.meta.url), {
    workerData: { ...data, port: channel.port2 },
    transferList: [channel.port2],
    // It holds one 1 MB chunk and a few batches; without limits V8 grows the heap lazily (+150 MB RSS at 1M rows).
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
  });
  worker.unref();
  const port = channel.port1;

  function receive(): ParseAheadMessage {
    let silentSince = Date.now();
    for (;;) {
      const seen = Atomics.load(sequence, 0);
      const received = receiveMessageOnPort(port);
      if (received) return received.message as ParseAheadMessage;
      if (Atomics.wait(sequence, 0, seen, 1000) === 'timed-out' && Date.now() - silentSince > SILENCE_LIMIT_MS) {
        throw new Error(`the ETL parse thread sent nothing for ${SILENCE_LIMIT_MS / 1000} s`);
      }
      if (Atomics.load(sequence, 0) !== seen) silentSince = Date.now();
    }
  }

  function giveCredit(): void {
    Atomics.add(credits, 0, 1);
    Atomics.notify(credits, 0);
  }

  let finished = -1; // highest file whose 'end' has been received
  return {
    *batches(fileIndex) {
      if (fileIndex <= finished) throw new Error(`file ${fileIndex} was already read`);
      for (;;) {
        const message = receive();
        if (message.type === 'error') {
          const error = new Error(message.message) as NodeJS.ErrnoException;
          error.name = message.name;
          if (message.code) error.code = message.code;
          throw error;
        }
        if (message.type === 'end') {
          finished = message.file;
          if (message.file >= fileIndex) return;
          continue;
        }
        giveCredit();
        if (message.file < fileIndex) continue; // rest of a file the writer skipped or abandoned
        yield message.batch;
      }
    },
    close() {
      port.close();
      void worker.terminate();
    },
  };
}
