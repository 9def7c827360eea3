import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type Database from 'better-sqlite3';

/**
 * The last release whose cache stored observations as blocks (migration 0800): main before
 * migration 0900 (decision 0012). Its cache modules are taken from git history, not copied into
 * the tree, so the test writes a cache exactly as that release did.
 */
export const BLOCKS_RELEASE = 'c1d0f4c9cdd2adb15b9c2fe25fd2cf85ea438071';

/**
 * The last release whose views found a product's latest row through the key (typed rows, up to
 * migration 0950): main before migration 1000. Its cache imports pipeline/base/.
 */
export const TYPED_RELEASE = '2be83a7009700beca03fa7fa7f86b29b4d66a48b';

/** The release's cache API that the migration tests use. */
export interface ReleaseCache {
  openCache(file: string): Database.Database;
  createObservationWriter(db: Database.Database, options?: { origin?: 'local' | 'athena' }): {
    writeBatch(rows: readonly object[]): { inserted: number; duplicates: number };
    flush(): void;
  };
}

const root = join(import.meta.dirname, '..', '..');

/**
 * Builds a release's pipeline/cache/ (from `git archive`, with the base it imports) into one module with esbuild, in a
 * `.tmp-*` folder of the repository (git-ignored; better-sqlite3 resolves from its node_modules),
 * and imports it. Undefined, with the reason, when git cannot give that commit (a shallow clone).
 */
export async function loadReleaseCache(release = BLOCKS_RELEASE): Promise<{ cache?: ReleaseCache; why?: string }> {
  const paths = release === BLOCKS_RELEASE ? ['pipeline/cache'] : ['pipeline/cache', 'pipeline/base'];
  const dir = mkdtempSync(join(root, '.tmp-release-cache-'));
  try {
    try {
      const tar = execFileSync('git', ['archive', release, ...paths], { cwd: root, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
      mkdirSync(join(dir, 'src'));
      execFileSync('tar', ['-x', '-C', join(dir, 'src')], { input: tar });
    } catch (error) {
      return { why: `git cannot give commit ${release} here (${(error as Error).message.split('\n')[0]})` };
    }
    writeFileSync(
      join(dir, 'entry.ts'),
      "export { openCache } from './src/pipeline/cache/cache-db';\nexport { createObservationWriter } from './src/pipeline/cache/observation-writer';\n",
    );
    const outfile = join(dir, 'release-cache.mjs');
    await build({ entryPoints: [join(dir, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', external: ['better-sqlite3'], outfile, logLevel: 'silent' });
    return { cache: (await import(pathToFileURL(outfile).href)) as ReleaseCache };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
