import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cachePath, logMigrations, openCache } from '../cache/cache-db';
import { createHandlers, type Handlers } from './handlers';
import { createAppContext, type AppContext } from './app-context';
import { runLocalEtl } from '../etl/local-etl';
import { packageRoot } from '../base/paths';
import { createProducerControl } from '../docker/producer-control';
import { announceLocalEtl } from '../tasks/pipeline-actions';
import type { ForecastServiceOptions } from '../forecasting/forecast-service';
import { describeSourceKind, detectNewSourceKinds } from '../forecasting/source-kinds';

/**
 * The embedded default, in one process tree: the market-simulator producer (a child process
 * writing CSV batches to `<workspace>/lake`, started through the backend's producer control), the local ETL (polling the lake, committing cleaned
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
  /** Options of every automatic training (tests: fewer trees); the core's defaults otherwise. */
  trainDefaults?: ForecastServiceOptions['trainDefaults'];
  /** The node binary for child processes (Electron passes its own; it runs with ELECTRON_RUN_AS_NODE). */
  nodeBinary?: string;
  log?: (message: string) => void;
}

export interface EmbeddedRuntime {
  ctx: AppContext;
  handlers: Handlers;
  /** Cancels running tasks, stops the producer (SIGTERM: it delivers its open batch), waits for the ETL pass in flight, closes the cache. */
  stop(): Promise<void>;
}

/** The CLI script, for child processes (the same in the bundle, in Electron and from source). */
export function cliScript(): string {
  return join(packageRoot(), 'pipeline', 'cli', 'bin.mjs');
}

/**
 * Two years of simulated history at start: the forecaster's first model needs about
 * 4 × 14 + 60 days, and its slices see each year's sales twice. Written and cleaned in about
 * 15 s on a 2-core machine; the first model starts once ~390 days are in (docs/desktop-app.md).
 */
export const DEFAULT_BACKFILL_DAYS = 730;

export async function startEmbeddedRuntime(options: EmbeddedRuntimeOptions): Promise<EmbeddedRuntime> {
  const log = options.log ?? (() => {});
  mkdirSync(options.workspace, { recursive: true });
  const cache = openCache(cachePath(options.workspace), logMigrations(log));
  const producer = createProducerControl({
    workspace: options.workspace,
    ...(options.nodeBinary ? { processCommand: [options.nodeBinary, cliScript(), 'produce'] } : {}),
  });
  const services = createAppContext({
    workspace: options.workspace,
    cache,
    version: options.version,
    shell: options.shell,
    producer,
    forecaster: { log, ...(options.trainDefaults ? { trainDefaults: options.trainDefaults } : {}) },
  });
  const { ctx } = services;
  const { events, forecaster } = ctx;
  const handlers = createHandlers(ctx);

  let stopping = false;
  if (options.producer ?? true) {
    // Through the backend's one producer control, so the Pipeline screen sees it and can stop it.
    // A child process (not a container) keeps the embedded default in one process tree and fast
    // to first data; the UI may restart it in Docker.
    const sim = options.simulator ?? {};
    await producer.start({
      source: 'simulator',
      products: sim.products ?? 300,
      backfillDays: sim.backfillDays ?? DEFAULT_BACKFILL_DAYS,
      intervalSeconds: sim.intervalSeconds ?? 5,
      seed: sim.seed ?? 7,
      runner: 'process',
    });
  }

  // The ETL loop: one pass at a time; each pass commits whole files, so stopping between passes loses nothing.
  const etlInterval = options.etlIntervalMs ?? 2000;
  let etlTimer: NodeJS.Timeout | undefined;
  let etlRunning: Promise<void> | undefined;
  // A pass that fails (a full disk) fails again every few seconds until it is fixed: say it once,
  // and say when it works again.
  let lastFailure: string | undefined;
  const etlPass = async () => {
    try {
      // A long pass (the backfill at start: 730 files) commits file by file: the screens are told
      // about once a second what is in, rather than after the whole pass (~10 s on 2 cores).
      let announcedAt = Date.now();
      let announcedFiles = 0;
      let announcedRows = 0;
      const summary = await runLocalEtl({
        workspace: options.workspace,
        onProgress: (p) => {
          if (p.filesDone === announcedFiles || Date.now() - announcedAt < 1000) return;
          events.emit('data/changed', { origin: 'local', rows: p.rowsRead - announcedRows, at: new Date().toISOString() });
          announcedAt = Date.now();
          announcedFiles = p.filesDone;
          announcedRows = p.rowsRead;
        },
      });
      if (lastFailure !== undefined) {
        lastFailure = undefined;
        log('ETL passes work again.');
        events.emit('log/line', { level: 'info', source: 'etl', message: 'ETL passes work again.', at: new Date().toISOString() });
      }
      announceLocalEtl(events, summary);
      if (summary.files > 0) for (const kind of detectNewSourceKinds(cache)) log(describeSourceKind(kind));
      checkForecaster();
      if (summary.files > 0) {
        events.emit('log/line', {
          level: summary.quarantined > 0 ? 'warn' : 'info',
          source: 'etl',
          message: `ETL: ${summary.files} files, ${summary.cleaned} cleaned, ${summary.duplicates} duplicates, ${summary.quarantined} quarantined`,
          at: new Date().toISOString(),
        });
      }
    } catch (error) {
      const message = `ETL pass failed: ${error instanceof Error ? error.message : String(error)}`;
      if (message === lastFailure) return;
      lastFailure = message;
      log(`${message} (retried every ${Math.round(etlInterval / 1000)} s; said once until it changes)`);
      events.emit('log/line', { level: 'error', source: 'etl', message, at: new Date().toISOString() });
    }
  };
  // After each pass: train if the rule says so (a first model as soon as the history suffices,
  // even while a backfill is still arriving: the full model follows the quick one). Its own
  // failures (a cache being migrated) are the forecaster's, not the ETL's: said, not thrown.
  const checkForecaster = () => {
    try {
      forecaster.checkAndTrain();
    } catch (error) {
      log(`Forecaster check failed: ${error instanceof Error ? error.message : String(error)}`);
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
      await services.dispose();
      const state = (await producer.status()).state;
      if (state === 'running' || state === 'starting' || state === 'building') await producer.stop(); // SIGTERM: it delivers its open batch
      await etlRunning;
      cache.close();
    },
  };
}
