import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest folder above this module holding package.json and producer/.
 * Found by walking up because this code runs from producer/ (sources), dist/ (the CLI bundle)
 * and dist/electron/ (the desktop main bundle).
 */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'producer', 'Dockerfile'))) return dir;
    if (dirname(dir) === dir) return join(start, '..');
  }
}
