// Entry of the server image: `node server.mjs --bundle s3://… --host 0.0.0.0` (esbuild bundles this
// file with its dependencies into one file; build/server/Dockerfile). The same command as
// `pricedrop serve`; without --bundle it reads PRICEDROP_BUNDLE.
import { parseArgs, UsageError } from '../../pipeline/cli/command';
import { createCommandIo } from '../../pipeline/cli/command-io';
import { serveCommand } from '../../pipeline/cli/serve-command';

export async function serverMain(argv: string[]): Promise<number> {
  const io = createCommandIo();
  try {
    const args = parseArgs(argv, serveCommand.booleanFlags);
    if (args.switches.has('help')) {
      io.out(serveCommand.usage.replace('pricedrop serve', 'node server.mjs'));
      return 0;
    }
    if (!args.flags.has('bundle') && process.env.PRICEDROP_BUNDLE) args.flags.set('bundle', process.env.PRICEDROP_BUNDLE);
    return (await serveCommand.run(args, io)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) io.log(`${error.message}\n\n${serveCommand.usage}`);
    else io.log(`pricedrop serve: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await serverMain(process.argv.slice(2));
