import type { CacheDb } from '../cache/cache-db';
import { listRawFiles, type RawFile } from '../base/lake-layout';

/** The raw files of the lake that the manifest does not list yet. */
export function pendingRawFiles(db: CacheDb, lake: string): RawFile[] {
  const files = listRawFiles(lake);
  if (files.length === 0) return files;
  const done = new Set(db.prepare('SELECT file_key FROM etl_manifest').pluck().all() as string[]);
  return files.filter((file) => !done.has(file.key));
}
