#!/usr/bin/env node
// The `pricedrop` executable. The TypeScript sources are bundled into dist/ by `npm install`
// (the `prepare` script); this file only finds that bundle, or says how to make it.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(root, 'dist', 'cli.mjs');
if (!existsSync(bundle)) {
  process.stderr.write(`pricedrop: ${bundle} is missing; run "npm install" (or "npm run build") in ${root} first.\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(bundle).href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
