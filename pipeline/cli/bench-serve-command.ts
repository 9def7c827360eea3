import { join } from 'node:path';
import { numberFlag, stringFlag, type Command } from '../base/command-line';
import { benchServe } from '../forecasting/bench-serve';
import { packageRoot } from '../base/paths';

/** `pricedrop bench serve`: requests/s and latency of the headless predictor against a bare node:http server. */
export const benchServeCommand: Command = {
  name: 'bench serve',
  summary: 'Load-test the headless predictor (POST /api/predict) against a bare node:http reference',
  usage: `Usage: pricedrop bench serve [--bundle FILE] [--requests N] [--duration S] [--concurrency C] [--json]

Starts "pricedrop serve" on loopback (its own process, rate limit set out of reach) and a bare
node:http server answering a constant JSON body, and drives POST /api/predict on each with the same
closed-loop load: C keep-alive connections, each sending its next request when the previous answer
arrives, until N answers or S seconds per server, after a warm-up, in 4 alternating rounds (so load
from other processes hits both alike; requests/s is the median round, latency over all requests).
Prints {"rps","p50_ms","p99_ms","rss_mb","reference_rps",...}; targets: rps >= reference/2,
p99 < 20 ms, peak RSS < 200 MB.

Options:
  --bundle FILE      the bundle to serve (default: train on synthetic histories and publish one)
  --products N       products of the synthetic bundle (default 300)
  --requests N       measured requests per server (default 100000)
  --duration S       time cap per server in seconds (default 15)
  --concurrency C    connections (default 16)
  --warmup N         requests per server before measuring (default 20000)
  --json             one JSON object on stdout`,
  async run(args, io) {
    const bin = join(packageRoot(), 'pipeline', 'cli', 'bin.mjs');
    const report = await benchServe({
      bundle: stringFlag(args, 'bundle'),
      products: numberFlag(args, 'products', 300, { min: 10, max: 200_000, integer: true }),
      requests: numberFlag(args, 'requests', 100_000, { min: 100, max: 1_000_000, integer: true }),
      durationS: numberFlag(args, 'duration', 15, { min: 1, max: 300 }),
      concurrency: numberFlag(args, 'concurrency', 16, { min: 1, max: 256, integer: true }),
      warmup: numberFlag(args, 'warmup', 20_000, { min: 0, max: 100_000, integer: true }),
      serveCommand: [process.execPath, bin],
      log: (message) => io.log(message),
    });
    if (args.switches.has('json')) io.json(report);
    else io.out(`server ${report.rps} req/s (p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms, peak RSS ${report.rss_mb} MB); bare node:http ${report.reference_rps} req/s; ratio ${report.rps_ratio}`);
  },
};
