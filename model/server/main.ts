// Entry of the server image: `node server.mjs [--bundle s3://…] [flags of pricedrop serve]`
// (esbuild bundles this file with its dependencies into one file: build/server/build-server.mjs).
// The same command as `pricedrop serve`; flags not given fall back to the environment:
//   PRICEDROP_BUNDLE, PRICEDROP_HOST, PRICEDROP_PORT, PRICEDROP_S3_ENDPOINT, PRICEDROP_API_KEY_ENV,
//   PRICEDROP_CORS_ORIGIN, PRICEDROP_POLL_SECONDS, PRICEDROP_RATE_LIMIT; PRICEDROP_TRUST_PROXY=1 for
//   --trust-proxy, PRICEDROP_ACCESS_LOG=1 for --access-log
// `node server.mjs --healthcheck` exits 0 when GET /health on PRICEDROP_PORT (default 8080) answers 200.
import { parseArgs, UsageError } from '../../pipeline/base/command-line';
import { createCommandIo } from '../../pipeline/base/command-io';
import { serveCommand } from './serve-command';

const ENV_FLAGS: Record<string, string> = {
  bundle: 'PRICEDROP_BUNDLE',
  host: 'PRICEDROP_HOST',
  port: 'PRICEDROP_PORT',
  's3-endpoint': 'PRICEDROP_S3_ENDPOINT',
  'api-key-env': 'PRICEDROP_API_KEY_ENV',
  'cors-origin': 'PRICEDROP_CORS_ORIGIN',
  'poll-seconds': 'PRICEDROP_POLL_SECONDS',
  'rate-limit': 'PRICEDROP_RATE_LIMIT',
};

export async function serverMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const io = createCommandIo();
  if (argv[0] === '--healthcheck') return healthcheck(Number(env.PRICEDROP_PORT || 8080));
  try {
    const args = parseArgs(argv, serveCommand.booleanFlags);
    if (args.switches.has('help')) {
      io.out(serveCommand.usage.replace('pricedrop serve', 'node server.mjs'));
      return 0;
    }
    for (const [flag, name] of Object.entries(ENV_FLAGS)) {
      const value = env[name];
      if (!args.flags.has(flag) && value) {
        args.flags.set(flag, value);
        args.all.set(flag, [value]);
      }
    }
    if (env.PRICEDROP_TRUST_PROXY === '1') args.switches.add('trust-proxy');
    if (env.PRICEDROP_ACCESS_LOG === '1') args.switches.add('access-log');
    return (await serveCommand.run(args, io)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) io.log(`${error.message}\n\n${serveCommand.usage}`);
    else io.log(`pricedrop serve: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

async function healthcheck(port: number): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2500) });
    return response.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

process.exitCode = await serverMain(process.argv.slice(2));
