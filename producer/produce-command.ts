import { runProducer } from './run-producer';
import { PRODUCE_BOOLEAN_FLAGS, PRODUCE_USAGE, producerOptionsFromArgs } from './produce-flags';
import { workspaceOf, type Command, type CommandIo, type ParsedArgs } from '../pipeline/base/command-line';

/**
 * `pricedrop produce`: runs the producer in this process until the source ends, --max-records is
 * reached, or SIGTERM/SIGINT (which seal and deliver the open batch, then exit 0).
 */
export const produceCommand: Command = {
  name: 'produce',
  summary: 'Read prices from a source (simulator, APIs, replay) into the lake or S3, at least once',
  usage: PRODUCE_USAGE,
  booleanFlags: PRODUCE_BOOLEAN_FLAGS,
  async run(args, io) {
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (name: NodeJS.Signals) => {
      signals++;
      if (signals > 1) process.exit(130);
      io.log(`${name}: sealing the open batch and delivering it (send again to quit at once)`);
      controller.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      await produce(args, io, controller.signal);
      return 0;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  },
};

/**
 * Runs the producer for parsed `produce` flags until it ends or `signal` aborts, then reports the
 * summary (one JSON line with --json). The body of `pricedrop produce` and of the container's
 * program (producer/main.ts), which differ only in how signals reach `signal`.
 */
export async function produce(args: ParsedArgs, io: CommandIo, signal: AbortSignal): Promise<void> {
  const options = producerOptionsFromArgs(args, workspaceOf(args));
  const summary = await runProducer(options, {
    signal,
    onLog: (level, message) => io.log(level === 'info' ? message : `${level}: ${message}`),
    onProgress: (progress) => io.progress('delivered records', progress.records, options.maxRecords),
  });
  if (args.switches.has('json')) io.json(summary);
  else io.out(`delivered ${summary.records} records in ${summary.batches} batches (${summary.bytes} bytes), ${summary.rejected} rejected, ${summary.retries} retries`);
}
