import { Worker, type WorkerOptions } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { packageRoot } from './paths';

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
    // Bundled (CLI, Electron main, or another worker): the build put every worker in dist/workers/.
    const bundled = join(packageRoot(), 'dist', 'workers', `${name}.mjs`);
    if (existsSync(bundled)) return new Worker(bundled, options);
  }
  // Node 20 does not apply `--import tsx` hooks to a worker's own entry module (ERR_UNKNOWN_FILE_EXTENSION),
  // so a tiny eval'd bootstrap loads the .ts entry through tsx's API instead.
  const bootstrap = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(sourceUrl.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(bootstrap, { ...options, eval: true });
}
