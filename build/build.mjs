#!/usr/bin/env node
// Bundles the TypeScript sources with esbuild (about 1 s): run by `npm install` (prepare), `npm test` and `npm start`.
//   dist/cli.mjs              the `pricedrop` CLI and everything it runs (Node, ESM, packages external)
//   dist/workers/<name>.mjs   every `*.worker.ts` (worker threads: ETL, training, sync off the main thread)
//   dist/renderer/            the React UI (browser), served by the HTTP transport and loaded by Electron
//   dist/electron/            the desktop shell: main.mjs and preload.cjs (sandboxed preloads must be CommonJS)
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');

function findWorkers(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findWorkers(path));
    else if (entry.endsWith('.worker.ts')) found.push(path);
  }
  return found;
}

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { 'process.env.PRICEDROP_BUNDLED': '"1"' },
};

const workers = ['pipeline', 'producer', 'model'].flatMap((dir) => findWorkers(join(root, dir)));

await Promise.all([
  build({ ...nodeCommon, entryPoints: { cli: join(root, 'pipeline/cli/main.ts') }, outdir: dist, format: 'esm', outExtension: { '.js': '.mjs' } }),
  ...workers.map((file) =>
    build({ ...nodeCommon, entryPoints: [file], outfile: join(dist, 'workers', basename(file).replace(/\.worker\.ts$/, '.mjs')), format: 'esm' }),
  ),
  build({
    entryPoints: { app: join(root, 'renderer/main.tsx') },
    outdir: join(dist, 'renderer'),
    bundle: true,
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari17'],
    format: 'esm',
    jsx: 'automatic',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
  // Electron's main process runs ESM (Electron ≥ 28); the sandboxed preload must be CommonJS.
  build({ ...nodeCommon, entryPoints: [join(root, 'electron/main.ts')], outfile: join(dist, 'electron/main.mjs'), format: 'esm' }),
  build({ ...nodeCommon, packages: undefined, external: ['electron'], entryPoints: [join(root, 'electron/preload.ts')], outfile: join(dist, 'electron/preload.cjs'), format: 'cjs', platform: 'node' }),
]);
for (const file of ['index.html', 'styles.css']) cpSync(join(root, 'renderer', file), join(dist, 'renderer', file));
process.stderr.write(`built ${relative(root, dist)}/ (${workers.length} workers) in ${Date.now() - started} ms\n`);
if (watch) process.stderr.write('--watch is not supported; re-run the build.\n');
