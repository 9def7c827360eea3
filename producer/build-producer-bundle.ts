import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../pipeline/base/paths';

// The tests take the repository root from here.

/**
 * Bundles producer/main.ts and every dependency (AWS SDK included) into one self-contained ESM
 * file that runs with a bare `node` and no node_modules: the container's program, also used by
 * the cross-process tests. About 0.6 MB minified; takes about a second.
 */
export async function buildProducerBundle(outFile: string): Promise<string> {
  // Loaded on demand: the CLI and the desktop main import this module but should not pay for esbuild.
  const { build } = await import('esbuild');
  mkdirSync(dirname(outFile), { recursive: true });
  await build({
    entryPoints: [join(packageRoot(), 'producer', 'main.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require() for Node built-ins; give ESM a require.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    define: { 'process.env.PRICEDROP_BUNDLED': '"1"' },
  });
  return outFile;
}
