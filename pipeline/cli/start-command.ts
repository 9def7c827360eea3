import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, stringFlag, untilStopSignal, UsageError, workspaceOf, type Command, type ParsedArgs } from '../base/command-line';
import { startHttpTransport } from '../api/http-transport';
import { createLaunchToken, launchUrl, tokenProblem } from '../api/launch-token';
import { DEFAULT_BACKFILL_DAYS, startEmbeddedRuntime } from '../app/embedded-runtime';
import { rendererDir, VERSION } from '../base/paths';

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the embedded default: simulator producer, local ETL, cache, predictor and the UI',
  usage: `Usage: pricedrop start --headless [--workspace DIR] [--port N] [--host 127.0.0.1] [--token VALUE]
                       [--no-producer] [--products N] [--backfill-days N] [--interval S]

Starts, in one process tree, the market-simulator producer writing CSV batches to DIR/lake,
the local ETL that turns new raw files into cleaned rows in DIR/cache.db, and the HTTP server
with the UI. Prints "PriceDrop is serving at http://HOST:PORT/?token=TOKEN": open that address;
the page trades the token for a session cookie and drops it from the address bar. Scripts send
"Authorization: Bearer TOKEN". Every /api/ route but /api/health answers 401 without it.
Stop with Ctrl+C.

  --headless        serve the UI over HTTP instead of opening the desktop window
  --token VALUE     the launch token (16 to 256 letters, digits, . _ ~ -); default: $PRICEDROP_TOKEN,
                    else a new random one each run. Prefer the variable: arguments show in "ps"
  --port N          port to listen on (default 4173; 0 picks a free one)
  --host ADDRESS    address to listen on (default 127.0.0.1; anything else is reachable from
                    other machines: only do that on purpose)
  --no-producer     do not start the simulator (serve what the cache holds)
  --products N      simulated products (default 300)
  --backfill-days N days of simulated history written at start (default 730: enough for the
                    forecaster to train a first model by itself within a minute)
  --interval S      seconds between live simulator ticks (default 5)`,
  booleanFlags: ['headless', 'no-producer'],
  async run(args, io) {
    if (!args.switches.has('headless')) {
      const { desktopCommand } = await import('./desktop-command');
      return desktopCommand.run(args, io);
    }
    return runHeadless(args, io);
  },
};

/** The headless embedded default; also the fallback of `pricedrop desktop` without Electron. */
export async function runHeadless(args: Parameters<Command['run']>[0], io: Parameters<Command['run']>[1]): Promise<number> {
  const workspace = workspaceOf(args);
  const port = numberFlag(args, 'port', 4173, { min: 0, max: 65535, integer: true });
  const host = stringFlag(args, 'host', '127.0.0.1');
  const token = launchToken(args);
  const staticDir = rendererDir();
  if (!existsSync(join(staticDir, 'index.html'))) throw new Error(`The UI is not built (${staticDir}); run "npm run build".`);
  const runtime = await startEmbeddedRuntime({
    workspace,
    shell: 'browser',
    version: VERSION,
    producer: !args.switches.has('no-producer'),
    simulator: {
      products: numberFlag(args, 'products', 300, { min: 1, max: 100_000, integer: true }),
      backfillDays: numberFlag(args, 'backfill-days', DEFAULT_BACKFILL_DAYS, { min: 0, max: 3650, integer: true }),
      intervalSeconds: numberFlag(args, 'interval', 5, { min: 0.1, max: 86_400 }),
    },
    log: (message) => io.log(message),
  });
  const started = Date.now();
  const http = await startHttpTransport({
    handlers: runtime.handlers,
    events: runtime.ctx.events,
    staticDir,
    token,
    host,
    port,
    // Open to anyone who can reach the port: nothing private (no workspace path, no data).
    health: () => ({ version: VERSION, uptime_s: Math.round((Date.now() - started) / 1000) }),
    log: (message) => io.log(message),
  });
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') io.log(`Warning: listening on ${host}: other machines can reach this server.`);
  io.out(`PriceDrop is serving at ${launchUrl(http.url, token)}`);
  io.log(`Workspace: ${workspace}`);

  await untilStopSignal();
  io.log('Stopping…');
  await http.close();
  await runtime.stop();
  return 0;
}

/**
 * This run's launch token: `--token VALUE`, else `$PRICEDROP_TOKEN`, else a new random one. A
 * chosen token is checked (the message never repeats it). The variable is removed from this
 * process's environment once read, so the producer, workers and other children never inherit it.
 */
export function launchToken(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string {
  const fromFlag = args.flags.get('token');
  const fromEnv = env.PRICEDROP_TOKEN;
  delete env.PRICEDROP_TOKEN;
  const [chosen, where] = fromFlag !== undefined ? [fromFlag, '--token'] : fromEnv ? [fromEnv, 'PRICEDROP_TOKEN'] : [undefined, ''];
  if (chosen === undefined) return createLaunchToken();
  const problem = tokenProblem(chosen);
  if (problem) throw new UsageError(`${where} ${problem}`);
  return chosen;
}
