import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath } from '../cache/cache-db';
import { writeFixtureCache } from './fixture-cache';
import { trainModel } from './workspace-training';
import { publishBundle } from './publish-bundle';
import { parseBundleLocation } from '../../model/bundle/bundle-source';
import { decodeBundle } from '../../model/bundle/bundle-format';

/**
 * `pricedrop bench serve`: the server (its own process, as deployed) against a bare node:http server
 * answering a constant JSON body (the ceiling of Node's HTTP stack on this machine), both driven by
 * the same closed-loop load generator in this process: `concurrency` keep-alive connections, each
 * sending POST /api/predict as soon as its previous answer arrived, until `requests` answers or
 * `durationS` seconds in all, after a warm-up, in 4 alternating rounds per server. Loopback only.
 */
export interface BenchServeOptions {
  /** A bundle file; default: a synthetic one published from fixture histories (the real train → publish path). */
  bundle?: string;
  products: number;
  requests: number;
  durationS: number;
  concurrency: number;
  warmup: number;
  /** How to start `pricedrop serve`: [executable, ...args before "serve"]. */
  serveCommand: string[];
  log(message: string): void;
}

export interface LoadResult {
  requests: number;
  errors: number;
  non_200: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  latencies: Float64Array;
}

export interface BenchServeReport {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Peak resident memory of the server process (VmHWM), MB. */
  rss_mb: number | null;
  reference_rps: number;
  reference_p50_ms: number;
  reference_p99_ms: number;
  rps_ratio: number;
  requests: number;
  errors: number;
  concurrency: number;
  products: number;
  model_version: string;
  targets: { half_reference_rps: boolean; p99_under_20_ms: boolean; rss_under_200_mb: boolean };
}

export async function benchServe(options: BenchServeOptions): Promise<BenchServeReport> {
  const scratch = mkdtempSync(join(tmpdir(), 'pricedrop-bench-serve-'));
  try {
    const bundleFile = options.bundle ?? (await syntheticBundle(scratch, options.products, options.log));
    const { header, payload } = decodeBundle(readFileSync(bundleFile));
    const ids = payload.products.map((p) => p.id);
    if (ids.length === 0) throw new Error('the bundle has no products to predict');
    const bodies = ids.map((id) => Buffer.from(JSON.stringify({ product_id: id })));

    options.log('starting the reference (bare node:http, constant JSON) and pricedrop serve');
    const reference = await startProcess(process.execPath, ['-e', REFERENCE_SERVER], /listening (\d+)/);
    const [command, ...prefix] = options.serveCommand;
    let server: { child: ChildProcess; port: number } | undefined;
    let referenceResult: LoadResult;
    let serverResult: LoadResult;
    let rss: number | null;
    try {
      server = await startProcess(command!, [...prefix, 'serve', '--bundle', bundleFile, '--port', '0', '--poll-seconds', '0', '--rate-limit', '1000000', '--rate-burst', '1000000'], /serving at http:\/\/127\.0\.0\.1:(\d+)/);
      // Products are asked in turn, continuing across warm-up and rounds: with more products than
      // requests, most predictions are computed cold (the server memoises each product's answer).
      const referenceCursor = { next: 0 };
      const serverCursor = { next: 0 };
      await drive(reference.port, bodies, { ...options, requests: options.warmup }, referenceCursor);
      await drive(server.port, bodies, { ...options, requests: options.warmup }, serverCursor);
      // Alternate short rounds so that load from other processes on the machine hits both alike;
      // requests/s is the median of the rounds, latency quantiles are over every request.
      const referenceRounds: LoadResult[] = [];
      const serverRounds: LoadResult[] = [];
      const perRound = { ...options, requests: Math.ceil(options.requests / ROUNDS), durationS: options.durationS / ROUNDS };
      for (let round = 0; round < ROUNDS; round++) {
        referenceRounds.push(await drive(reference.port, bodies, perRound, referenceCursor));
        serverRounds.push(await drive(server.port, bodies, perRound, serverCursor));
        options.log(`round ${round + 1}/${ROUNDS}: reference ${referenceRounds[round]!.rps.toFixed(0)} req/s, server ${serverRounds[round]!.rps.toFixed(0)} req/s`);
      }
      referenceResult = combine(referenceRounds);
      serverResult = combine(serverRounds);
      rss = peakRssMb(server.child.pid);
    } finally {
      await stopProcess(reference.child);
      if (server) await stopProcess(server.child);
    }
    const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
    return {
      rps: round(serverResult.rps, 0),
      p50_ms: round(serverResult.p50_ms),
      p99_ms: round(serverResult.p99_ms),
      rss_mb: rss === null ? null : round(rss, 1),
      reference_rps: round(referenceResult.rps, 0),
      reference_p50_ms: round(referenceResult.p50_ms),
      reference_p99_ms: round(referenceResult.p99_ms),
      rps_ratio: round(serverResult.rps / referenceResult.rps, 3),
      requests: serverResult.requests,
      errors: serverResult.errors + serverResult.non_200,
      concurrency: options.concurrency,
      products: ids.length,
      model_version: header.model_version,
      targets: {
        half_reference_rps: serverResult.rps >= referenceResult.rps / 2,
        p99_under_20_ms: serverResult.p99_ms < 20,
        rss_under_200_mb: rss !== null && rss < 200,
      },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The reference: node:http reading the body and answering a constant JSON object of a prediction's size. */
const REFERENCE_SERVER = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ product_id: 'P0001', will_drop: true, confidence: 0.8123, expected_drop_amount: 1.23, expected_drop_pct: 12.5, risk_level: 'High', recommendation: 'Wait', reasons: [{ feature: 'days_since_change', value: 30, effect_pct_points: 20.1, text: 'price unchanged for 30 days (raises the drop chance by 20.1 pts)' }] }));
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

async function syntheticBundle(scratch: string, products: number, log: (message: string) => void): Promise<string> {
  log(`no --bundle: training a model on ${products} synthetic products and publishing it`);
  writeFixtureCache(cachePath(scratch), { products, days: 200, seed: 3 });
  await trainModel({ workspace: scratch });
  const file = join(scratch, 'bundle.json.gz');
  await publishBundle({ workspace: scratch, out: parseBundleLocation(file) });
  return file;
}

const ROUNDS = 4;

/** Several rounds as one result: summed counts, the median round's requests/s, quantiles over all latencies. */
function combine(rounds: LoadResult[]): LoadResult {
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  const latencies = Float64Array.from(rounds.flatMap((r) => Array.from(r.latencies))).sort();
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const middle = sorted.length / 2;
  const rps = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]!.rps : (sorted[middle - 1]!.rps + sorted[middle]!.rps) / 2;
  return {
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    non_200: rounds.reduce((sum, r) => sum + r.non_200, 0),
    seconds: rounds.reduce((sum, r) => sum + r.seconds, 0),
    rps,
    p50_ms: quantile(0.5),
    p99_ms: quantile(0.99),
    latencies,
  };
}

/** Where the next request's product comes from: continues across warm-up and rounds, so every product gets asked. */
export interface ProductCursor {
  next: number;
}

/**
 * The load generator: `concurrency` raw keep-alive TCP connections, each writing one pre-serialised
 * HTTP/1.1 request and reading the answer (status line, Content-Length, body) before the next.
 * A lean client on purpose: with node:http's client the generator itself was the bottleneck (a CPU
 * profile of the server under that load showed it idle 59 % of the time), which measures the
 * client's cost of parsing headers rather than the server. Both servers answer with Content-Length.
 */
export async function drive(port: number, bodies: readonly Buffer[], options: { requests: number; durationS: number; concurrency: number }, cursor: ProductCursor = { next: 0 }): Promise<LoadResult> {
  const requests = bodies.map((body) =>
    Buffer.concat([Buffer.from(`POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'), body]),
  );
  const latencies = new Float64Array(options.requests);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let non200 = 0;
  const started = performance.now();
  const deadline = started + options.durationS * 1000;

  // One connection; when the server says `Connection: close`, the loop opens a new one.
  const connection = () =>
    new Promise<boolean>((resolve) => {
      let again = false;
      const socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let buffer: Buffer = Buffer.alloc(0);
      let t0 = 0;
      const sendNext = () => {
        if (issued >= options.requests || performance.now() >= deadline) {
          socket.end();
          return;
        }
        issued++;
        t0 = performance.now();
        socket.write(requests[cursor.next++ % requests.length]!);
      };
      socket.on('connect', sendNext);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        const headerEnd = buffer.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const head = buffer.toString('latin1', 0, headerEnd);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < headerEnd + 4 + length) return;
        latencies[done++] = performance.now() - t0;
        if (!head.startsWith('HTTP/1.1 200 ')) non200++;
        buffer = buffer.subarray(headerEnd + 4 + length);
        if (/\r\nconnection:\s*close/i.test(head)) {
          again = true;
          socket.end();
          return;
        }
        sendNext();
      });
      socket.on('error', () => {
        errors++;
        socket.destroy();
      });
      socket.on('close', () => resolve(again));
    });
  const loop = async () => {
    while (await connection());
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, done).sort();
  const quantile = (q: number) => (done === 0 ? Number.NaN : sorted[Math.min(done - 1, Math.floor(q * done))]!);
  return { requests: done, errors, non_200: non200, seconds, rps: done / seconds, p50_ms: quantile(0.5), p99_ms: quantile(0.99), latencies: sorted };
}

async function startProcess(command: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before serving:\n${out}`));
    });
  });
  return { child, port };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Peak resident set (VmHWM) of a process, from /proc (Linux); null elsewhere. */
function peakRssMb(pid: number | undefined): number | null {
  const file = `/proc/${pid}/status`;
  if (pid === undefined || !existsSync(file)) return null;
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(file, 'utf8'));
  return match ? Number(match[1]) / 1024 : null;
}
