import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RAW_PREFIX } from './raw-format';

/** A raw batch in the local lake. `key` is relative to the lake folder, with `/`. */
export interface RawFile {
  key: string;
  path: string;
  size: number;
}

/** The local lake folder of a workspace. */
export function lakeDir(workspace: string): string {
  return join(workspace, 'lake');
}

/** Where a raw file's quarantined rows go: `<workspace>/quarantine/<key>`. */
export function quarantinePath(workspace: string, key: string): string {
  return join(workspace, 'quarantine', ...key.split('/'));
}

/**
 * Every raw batch `price-stream/dt=*\/*.csv` in key order (day, then name). Files appear whole
 * (the producer renames them into place), so anything not ending in `.csv` is a file still being
 * written, or not ours, and is ignored.
 */
export function listRawFiles(lake: string): RawFile[] {
  const root = join(lake, RAW_PREFIX);
  let days: string[];
  try {
    days = readdirSync(root).filter((name) => name.startsWith('dt=')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: RawFile[] = [];
  for (const day of days) {
    let names: string[];
    try {
      names = readdirSync(join(root, day));
    } catch {
      continue; // not a folder, or removed meanwhile
    }
    for (const name of names.filter((n) => n.endsWith('.csv') && !n.startsWith('.')).sort()) {
      const path = join(root, day, name);
      try {
        const stat = statSync(path);
        if (stat.isFile()) files.push({ key: `${RAW_PREFIX}/${day}/${name}`, path, size: stat.size });
      } catch {
        // vanished between readdir and stat
      }
    }
  }
  return files;
}
