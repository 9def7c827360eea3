import { Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads';
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

/** What a worker computing one result posts (see postWorkerTask): progress events, then the result or its error. */
export type WorkerTaskMessage<R, P> = { type: 'progress'; progress: P } | { type: 'done'; result: R } | { type: 'error'; name: string; message: string; code?: string };

/** A worker's body: runs `task`, posting its progress events, then its result or its error (name, message and errno/SQLite code kept). */
export async function postWorkerTask<R, P = never>(port: MessagePort | null, task: (onProgress: (progress: P) => void) => R | Promise<R>): Promise<void> {
  const post = (message: WorkerTaskMessage<R, P>) => port?.postMessage(message);
  try {
    post({ type: 'done', result: await task((progress) => post({ type: 'progress', progress })) });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    const code = (err as { code?: unknown }).code;
    post({ type: 'error', name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) });
  }
}

/**
 * The caller's side of postWorkerTask: progress to `onProgress`; settles once, with the result,
 * the worker's error (same name and message), or an error when the worker exits before either.
 * `onAbort` runs if `signal` aborts meanwhile: it asks the worker to stop (the promise then
 * settles as the worker ends), or stops it and returns the error to reject with at once.
 */
export function awaitWorkerTask<R, P = never>(
  worker: Worker,
  what: string,
  options: { onProgress?: (progress: P) => void; signal?: AbortSignal; onAbort?: () => Error | void } = {},
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => {
      const error = options.onAbort?.();
      if (error) settle(() => reject(error));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (message: WorkerTaskMessage<R, P>) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else if (message.type === 'done') settle(() => resolve(message.result));
      else settle(() => reject(Object.assign(new Error(message.message), { name: message.name }, message.code !== undefined ? { code: message.code } : {})));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`${what} exited with code ${code} before finishing`))));
  });
}

/**
 * awaitWorkerTask for a worker that may be stopped at any point (its work leaves nothing half
 * written): aborting terminates it and rejects at once with `abortError()`, and the worker is
 * terminated whatever the outcome.
 */
export async function awaitTerminableTask<R, P = never>(
  worker: Worker,
  what: string,
  options: { onProgress?: (progress: P) => void; signal?: AbortSignal; abortError: () => Error },
): Promise<R> {
  const onAbort = () => {
    void worker.terminate();
    return options.abortError();
  };
  try {
    return await awaitWorkerTask<R, P>(worker, what, { onProgress: options.onProgress, signal: options.signal, onAbort });
  } finally {
    void worker.terminate();
  }
}
