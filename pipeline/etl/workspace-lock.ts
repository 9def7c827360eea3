import { closeSync, openSync, readFileSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../base/process-alive';

/** Raised when another live process holds the lock past the wait limit. */
export class LockBusyError extends Error {
  override name = 'LockBusyError';
}

function tryAcquire(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Held: steal it only from a dead process (a crash leaves the file behind).
  let holder: number;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    return false; // released meanwhile; the caller retries
  }
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !processAlive(holder)) {
    rmSync(file, { force: true });
  }
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the workspace's named lock: one holder at a time within this process
 * (queued in call order) and across processes (`<workspace>/.<name>.lock` holding the pid;
 * a lock left by a dead process is taken over). Waits up to `waitMs` for another process.
 */
export async function withWorkspaceLock<T>(workspace: string, name: string, fn: () => Promise<T>, waitMs = 120_000): Promise<T> {
  const file = join(workspace, `.${name}.lock`);
  const queueKey = file;
  const before = inProcess.get(queueKey) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(async () => {
    mkdirSync(workspace, { recursive: true });
    const deadline = Date.now() + waitMs;
    while (!tryAcquire(file)) {
      if (Date.now() > deadline) throw new LockBusyError(`another PriceDrop process holds ${file}`);
      await sleep(100);
    }
    try {
      return await fn();
    } finally {
      rmSync(file, { force: true });
    }
  });
  inProcess.set(queueKey, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(queueKey) === run) inProcess.delete(queueKey);
  }
}
