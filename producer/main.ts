import { statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The container's program (bundled with every dependency inlined into one file, see
 * producer/build-producer-bundle.ts): the same flags as `pricedrop produce`.
 * `--healthcheck` exits 0 when a running producer touched its heartbeat file in the last 60 s.
 *
 * The signal handlers are installed before the producer's modules (the AWS SDK among them) are
 * loaded, so a SIGTERM that arrives during start-up is a graceful stop too.
 */
const HEARTBEAT = join(process.env.PRICEDROP_HEARTBEAT_DIR ?? tmpdir(), 'pricedrop-producer.alive');

export async function producerMain(argv: readonly string[], controller = new AbortController()): Promise<number> {
  const rest = argv[0] === 'produce' ? argv.slice(1) : argv;
  if (rest.includes('--healthcheck')) {
    try {
      return Date.now() - statSync(HEARTBEAT).mtimeMs < 60_000 ? 0 : 1;
    } catch {
      return 1;
    }
  }
  const [{ UsageError, parseArgs }, { createCommandIo }, { PRODUCE_BOOLEAN_FLAGS, PRODUCE_USAGE }, { produce }] = await Promise.all([
    import('../pipeline/base/command-line'),
    import('../pipeline/base/command-io'),
    import('./produce-flags'),
    import('./produce-command'),
  ]);
  const io = createCommandIo();
  const beat = () => {
    try {
      writeFileSync(HEARTBEAT, String(Date.now()));
    } catch {
      // A read-only /tmp only disables the health check.
    }
  };
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    const args = parseArgs(rest, PRODUCE_BOOLEAN_FLAGS);
    if (args.switches.has('help')) {
      io.out(PRODUCE_USAGE);
      return 0;
    }
    beat();
    heartbeat = setInterval(beat, 10_000);
    await produce(args, io, controller.signal);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.log(`producer: ${error.message}\n\n${PRODUCE_USAGE}`);
      return 2;
    }
    io.log(`producer: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    clearInterval(heartbeat);
  }
}

// Run when executed directly (node producer.mjs / tsx producer/main.ts), not when imported.
const entry = process.argv[1] ?? '';
if (/(^|[\\/])(main\.ts|producer\.mjs)$/.test(entry)) {
  const controller = new AbortController();
  const onSignal = () => (controller.signal.aborted ? process.exit(130) : controller.abort());
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.exitCode = await producerMain(process.argv.slice(2), controller);
}
