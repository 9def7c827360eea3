import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json), from the bundle or from the sources. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('Cannot find the PriceDrop package root');
}

/** The built renderer (dist/renderer), served by the HTTP transport and loaded by Electron. */
export function rendererDir(): string {
  return join(packageRoot(), 'dist', 'renderer');
}

export const VERSION = '0.1.0';
