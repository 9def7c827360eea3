import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The Glue job's rules (glue/price_rules.py) against the shared vectors, with the system's
 * python3 and no Spark: the same vectors pipeline/base/price-rules.vectors.test.ts runs through
 * the TypeScript engine.
 */
const repoRoot = resolve(import.meta.dirname, '..');
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });

describe('glue/price_rules.py', () => {
  it.skipIf(python.error !== undefined)('passes the shared vectors, its unit tests and the job stage tests (python3 -m unittest)', () => {
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'glue', '-p', 'test_*.py', '-v'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) console.error(run.stdout, run.stderr);
    expect(run.stderr).toMatch(/\nOK\b/);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/Ran ([89]|\d{2,}) tests/);
  });
});
