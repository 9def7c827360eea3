import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CONTENT_TYPES } from '../../pipeline/base/http-server';

/** One file of the web page, held in memory with its gzip form and an ETag (the page is ~1 MB, ECharts included). */
export interface StaticAsset {
  body: Buffer;
  gzip: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
}

const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
  '/favicon.svg': 'favicon.svg',
};

/**
 * The page's folder: `public/` beside this module (sources, and the server image, where the
 * bundle sits next to it), else model/server/public under the package root (the CLI bundle in dist/).
 */
export function publicDir(): string {
  const candidates = [process.env.PRICEDROP_PUBLIC_DIR, join(dirname(fileURLToPath(import.meta.url)), 'public'), join(dirname(fileURLToPath(import.meta.url)), '..', 'model', 'server', 'public')];
  for (const dir of candidates) if (dir && existsSync(join(dir, 'index.html'))) return dir;
  throw new Error('The web page of the server (model/server/public) is missing');
}

/** ECharts' prebuilt browser file: from node_modules, or `vendor/` in the page folder (the server image). */
export function echartsFile(dir: string): string {
  const vendored = join(dir, 'vendor', 'echarts.min.js');
  if (existsSync(vendored)) return vendored;
  return createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
}

/** Reads the page and ECharts once, at start: requests never touch the disk. */
export function loadStaticAssets(dir = publicDir()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  const add = (route: string, file: string, cacheControl: string) => {
    const body = readFileSync(file);
    assets.set(route, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl,
    });
  };
  for (const [route, file] of Object.entries(PAGE_FILES)) {
    if (existsSync(join(dir, file))) add(route, join(dir, file), 'no-cache');
  }
  add('/vendor/echarts.min.js', echartsFile(dir), 'public, max-age=86400');
  return assets;
}
