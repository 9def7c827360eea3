import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cachePath, openCache } from '../cache/cache-db';
import { EventBus } from '../api/event-bus';
import { createHandlers, type Handlers } from '../api/handlers';
import type { AppContext } from '../api/app-context';
import { runLocalEtl } from '../etl/local-etl';
import { packageRoot } from './paths';

/**
 * The embedded default, in one process tree: the market-simulator producer (a child process
 * writing CSV batches to `<workspace>/lake`), the local ETL (polling the lake, committing cleaned
 * rows to `<workspace>/cache.db`), and the API handlers over that cache. Both shells host it:
 * `pricedrop start --headless` (HTTP) and the Electron main process (IPC).
 */
export interface EmbeddedRuntimeOptions {
  workspace: string;
  shell: AppContext['shell'];
  version: string;
  /** Start the simulator producer as a child process (default true). */
  producer?: boolean;
  /** Simulator settings for that child. */
  simulator?: { products?: number; backfillDays?: number; intervalSeconds?: number; seed?: number };
  /** How often the ETL looks for new raw files (default 2000 ms). */
  etlIntervalMs?: number;
  /** The node binary and CLI script used for child processes (Electron passes its own). */
  nodeBinary?: string;
  nodeEnv?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export interface EmbeddedRuntime {
  ctx: AppContext;
  handlers: Handlers;
  /** Stops the producer (SIGTERM: it flushes its open batch), waits for the ETL pass in flight, closes the cache. */
  stop(): Promise<void>;
}

/** The CLI script, for child processes (the same in the bundle, in Electron and from source). */
export function cliScript(): string {
  return join(packageRoot(), 'pipeline', 'cli', 'bin.mjs');
}

export async function startEmbeddedRuntime(options: EmbeddedRuntimeOptions): Promise<EmbeddedRuntime> {
  const log = options.log ?? (() => {});
  mkdirSync(options.workspace, { recursive: true });
  const events = new EventBus();
  const cache = openCache(cachePath(options.workspace));
  const ctx: AppContext = { workspace: options.workspace, cache, events, version: options.version, shell: options.shell };
  const handlers = createHandlers(ctx);

  let stopping = false;
  let producer: ChildProcess | undefined;
  if (options.producer ?? true) {
    const sim = options.simulator ?? {};
    const args = [
      cliScript(),
      'produce',
      '--source', 'simulator',
      '--workspace', options.workspace,
      '--products', String(sim.products ?? 300),
      '--backfill-days', String(sim.backfillDays ?? 120),
      '--interval', String(sim.intervalSeconds ?? 5),
      '--seed', String(sim.seed ?? 7),
    ];
    producer = spawn(options.nodeBinary ?? process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.nodeEnv ?? process.env });
    producer.stderr?.setEncoding('utf8');
    producer.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        events.emit('log/line', { level: 'info', source: 'producer', message: line, at: new Date().toISOString() });
      }
    });
    producer.on('exit', (code, signal) => {
      if (!stopping) {
        log(`The simulator producer stopped (${signal ?? `exit ${code}`}); the dashboards keep serving the cache.`);
        events.emit('log/line', { level: code === 0 ? 'info' : 'error', source: 'producer', message: `producer exited (${signal ?? code})`, at: new Date().toISOString() });
      }
    });
  }

  // The ETL loop: one pass at a time; each pass commits whole files, so stopping between passes loses nothing.
  const etlInterval = options.etlIntervalMs ?? 2000;
  let etlTimer: NodeJS.Timeout | undefined;
  let etlRunning: Promise<void> | undefined;
  const etlPass = async () => {
    try {
      const summary = await runLocalEtl({ workspace: options.workspace });
      if (summary.files > 0) {
        events.emit('data/changed', { origin: 'local', rows: summary.cleaned, at: new Date().toISOString() });
        events.emit('log/line', {
          level: summary.quarantined > 0 ? 'warn' : 'info',
          source: 'etl',
          message: `ETL: ${summary.files} files, ${summary.cleaned} cleaned, ${summary.duplicates} duplicates, ${summary.quarantined} quarantined`,
          at: new Date().toISOString(),
        });
      }
    } catch (error) {
      log(`ETL pass failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const scheduleEtl = (delay: number) => {
    if (stopping) return;
    etlTimer = setTimeout(() => {
      etlRunning = etlPass().finally(() => {
        etlRunning = undefined;
        scheduleEtl(etlInterval);
      });
    }, delay);
  };
  scheduleEtl(500);

  return {
    ctx,
    handlers,
    async stop() {
      stopping = true;
      if (etlTimer) clearTimeout(etlTimer);
      if (producer && producer.exitCode === null) {
        const exited = new Promise<void>((resolve) => producer!.once('exit', () => resolve()));
        producer.kill('SIGTERM'); // the producer flushes its open batch and exits 0
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (producer.exitCode === null) producer.kill('SIGKILL');
      }
      await etlRunning;
      cache.close();
    },
  };
}
