import { runProducer } from '../../producer/run-producer';
import { PRODUCE_BOOLEAN_FLAGS, PRODUCE_USAGE, producerOptionsFromArgs } from '../../producer/produce-flags';
import { workspaceOf, type Command } from './command';

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
    const options = producerOptionsFromArgs(args, workspaceOf(args));
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
      const summary = await runProducer(options, {
        signal: controller.signal,
        onLog: (level, message) => io.log(level === 'info' ? message : `${level}: ${message}`),
        onProgress: (progress) => io.progress('delivered records', progress.records, options.maxRecords),
      });
      if (args.switches.has('json')) io.json(summary);
      else io.out(`delivered ${summary.records} records in ${summary.batches} batches (${summary.bytes} bytes), ${summary.rejected} rejected, ${summary.retries} retries`);
      return 0;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  },
};
