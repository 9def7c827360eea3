import { Worker, type WorkerOptions } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Starts a worker thread from a `*.worker.ts` module, in both ways this code runs:
 * - bundled (dist/cli.mjs): the build put the worker at `dist/workers/<name>.mjs`;
 * - from source (Vitest, tsx): the `.ts` file itself, loaded through tsx.
 *
 * @param sourceUrl `new URL('./name.worker.ts', import.meta.url)` written at the call site.
 */
export function startWorker(sourceUrl: URL, options: WorkerOptions = {}): Worker {
  const name = fileURLToPath(sourceUrl).split(/[\\/]/).pop()!.replace(/\.worker\.ts$/, '');
  if (process.env.PRICEDROP_BUNDLED) {
    // In the bundle, import.meta.url is dist/cli.mjs (or dist/workers/x.mjs): the workers sit in dist/workers/.
    const here = new URL('.', import.meta.url);
    const bundled = here.pathname.endsWith('/workers/') ? new URL(`./${name}.mjs`, here) : new URL(`./workers/${name}.mjs`, here);
    if (existsSync(bundled)) return new Worker(bundled, options);
  }
  return new Worker(sourceUrl, { ...options, execArgv: [...(options.execArgv ?? []), '--import', 'tsx'] });
}
