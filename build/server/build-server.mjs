#!/usr/bin/env node
// Bundles the headless predictor into a self-contained folder (no node_modules needed at run time):
//   OUT/server.mjs                  model/server/main.ts and everything it imports (AWS SDK included)
//   OUT/public/                     the web page (model/server/public)
//   OUT/public/vendor/echarts.min.js ECharts' prebuilt browser file
//   OUT/Dockerfile                  build/server/Dockerfile: OUT is a complete Docker build context
//   OUT/pricedrop-server.service    build/ec2's systemd unit: `tar -C OUT -czf release.tar.gz .` is the EC2 release
// Usage: node build/server/build-server.mjs [OUT]   (default dist/server); then `docker build OUT`.
// Fails if the bundle would pull in the SQLite cache (better-sqlite3): the server reads bundles only.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'server'));
const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(root, 'model/server/main.ts')],
  outfile: join(out, 'server.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies (the AWS SDK) call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  define: { 'process.env.PRICEDROP_BUNDLED': '"1"' },
});
const forbidden = Object.keys(result.metafile.inputs).filter((input) => /better-sqlite3|pipeline\/cache\//.test(input));
if (forbidden.length > 0) {
  process.stderr.write(`the server bundle must not include the SQLite cache, but imports:\n  ${forbidden.join('\n  ')}\n`);
  process.exit(1);
}
cpSync(join(root, 'model/server/public'), join(out, 'public'), { recursive: true });
mkdirSync(join(out, 'public', 'vendor'), { recursive: true });
cpSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), join(out, 'public', 'vendor', 'echarts.min.js'));
cpSync(join(root, 'build/server/Dockerfile'), join(out, 'Dockerfile'));
cpSync(join(root, 'build/ec2/pricedrop-server.service'), join(out, 'pricedrop-server.service'));
writeFileSync(join(out, 'package.json'), JSON.stringify({ name: 'pricedrop-server', private: true, type: 'module' }, null, 2) + '\n');
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
process.stderr.write(`built ${out}/server.mjs (${(bytes / 1024).toFixed(0)} KiB, ${Object.keys(result.metafile.inputs).length} modules) in ${Date.now() - started} ms\n`);
