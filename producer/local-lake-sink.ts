import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { destinationId, type Sink } from './sink';

let tempCounter = 0;

/**
 * The local lake: objects are files under `root`. Each write goes to a temporary file in the
 * target folder (a dot-name not ending in .csv, which the ETL ignores) and is renamed into place,
 * so the ETL never sees half a file. A rename within one folder is atomic on POSIX and NTFS.
 */
export function createLocalLakeSink(root: string): Sink {
  const madeFolders = new Set<string>();
  return {
    location: root,
    id: destinationId('local', root),
    async put(key, body) {
      const target = join(root, ...key.split('/'));
      const folder = dirname(target);
      if (!madeFolders.has(folder)) {
        await mkdir(folder, { recursive: true });
        await removeStaleTemps(folder);
        madeFolders.add(folder);
      }
      const temp = join(folder, `.${key.split('/').pop()}.${process.pid}-${++tempCounter}.tmp`);
      try {
        await writeFile(temp, body);
        await rename(temp, target);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        // The folder may have been removed under us (a wiped lake): make it again on the retry.
        madeFolders.delete(folder);
        throw error;
      }
    },
    close() {},
  };
}

/** Temp files older than this are leftovers of a killed producer (a live write takes milliseconds). */
const STALE_TEMP_MS = 10 * 60_000;

/** Removes temp files a killed producer left in a folder (checked once per folder per run). */
async function removeStaleTemps(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
    const path = join(folder, name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
  }
}
