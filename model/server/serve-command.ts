import { UsageError, numberFlag, requiredFlag, stringFlag, untilStopSignal, type Command } from '../../pipeline/base/command-line';
import { startServing } from './serve';

/**
 * `pricedrop serve`: the headless predictor (model/server) over HTTP, from a model bundle alone.
 * Imports nothing that needs the SQLite cache, so model/server/main.ts bundles it alone for the image.
 */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the predictor and its web page from a model bundle (file or s3://), no database',
  usage: `Usage: pricedrop serve --bundle FILE|s3://BUCKET/KEY [--host 127.0.0.1] [--port N] [options]

Serves GET /health, GET /api/products?q=TEXT, GET /api/products/:id, POST /api/predict,
GET /api/model and the web page at /. Prints "PriceDrop predictor is serving at URL".
The bundle is checked (format, checksum, model) before it is served; every --poll-seconds the
server checks the bundle's S3 ETag (or the file's size and time) and swaps in a new bundle without
dropping requests; a broken bundle is refused and the old one keeps serving. SIGTERM stops it
gracefully (stops accepting, finishes in-flight requests, exits 0).

Options:
  --bundle FILE|s3://BUCKET/KEY  the model bundle ("pricedrop publish" writes it)
  --host ADDRESS         address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --port N               port (default 8080; 0 picks a free one)
  --api-key-env NAME     require the header X-API-Key equal to the environment variable NAME on /api/*
  --cors-origin ORIGIN   allow this origin to call the API from a browser (repeatable); default none
  --rate-limit N         requests per second per client address on /api/* (default 20; 0 = off)
  --rate-burst N         burst per client (default 60)
  --trust-proxy          behind a load balancer: a client is the last X-Forwarded-For address
                         (only with a balancer that sets it; otherwise clients could pick their key)
  --poll-seconds N       seconds between checks for a new bundle (default 30; 0 = never)
  --access-log           one line per request on stderr: method, path, status, ms, client
  --s3-endpoint URL      an S3-compatible endpoint (path-style), e.g. s3rver; default: AWS
S3 access uses the standard AWS credential chain (on EC2: the instance role).`,
  booleanFlags: ['trust-proxy', 'access-log'],
  async run(args, io) {
    const bundle = requiredFlag(args, 'bundle');
    const apiKeyEnv = stringFlag(args, 'api-key-env');
    let apiKey: string | undefined;
    if (apiKeyEnv !== undefined) {
      apiKey = process.env[apiKeyEnv];
      if (!apiKey) throw new UsageError(`--api-key-env ${apiKeyEnv}: the environment variable is empty or not set`);
      if (apiKey.length < 16) throw new UsageError(`--api-key-env ${apiKeyEnv}: the key must be at least 16 characters`);
    }
    const corsOrigins = args.all.get('cors-origin') ?? [];
    for (const origin of corsOrigins) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new UsageError(`--cors-origin must be an origin like https://example.com, got "${origin}"`);
    }
    const running = await startServing({
      bundle,
      host: stringFlag(args, 'host', '127.0.0.1'),
      port: numberFlag(args, 'port', 8080, { min: 0, max: 65535, integer: true }),
      apiKey,
      corsOrigins,
      s3Endpoint: stringFlag(args, 's3-endpoint'),
      pollSeconds: numberFlag(args, 'poll-seconds', 30, { min: 0, max: 86_400 }),
      rateLimit: { perSecond: numberFlag(args, 'rate-limit', 20, { min: 0, max: 1_000_000 }), burst: numberFlag(args, 'rate-burst', 60, { min: 1, max: 1_000_000, integer: true }) },
      trustProxy: args.switches.has('trust-proxy'),
      accessLog: args.switches.has('access-log'),
      log: (message) => io.log(message),
    });
    io.out(`PriceDrop predictor is serving at ${running.http.url}`);
    await untilStopSignal();
    io.log('Stopping: finishing in-flight requests…');
    await running.stop(10_000);
    io.log('Stopped.');
    return 0;
  },
};
