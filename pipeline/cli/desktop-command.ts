import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../base/command-line';
import { packageRoot } from '../base/paths';
import { runHeadless } from './start-command';

/**
 * The Electron binary, if its runtime is installed. Electron 45 downloads the binary on first
 * `require('electron')`, which fails fast without internet; so look for the file instead of
 * requiring the package (node_modules/electron/path.txt names it inside dist/).
 */
export function findElectronBinary(root = packageRoot()): string | undefined {
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

export const desktopCommand: Command = {
  name: 'desktop',
  summary: 'Open the desktop app (Electron); without Electron\'s runtime, run headless instead',
  usage: `Usage: pricedrop desktop [--workspace DIR] [--port N] [--token VALUE]

Opens the PriceDrop window (which talks to its backend over IPC: no port, no token). Where
Electron's runtime is not installed, says so in one line and runs "pricedrop start --headless"
instead (same workspace, port and --token / $PRICEDROP_TOKEN), opening nothing else: open the
address it prints, http://127.0.0.1:PORT/?token=….`,
  booleanFlags: ['headless', 'no-producer'],
  async run(args, io) {
    const binary = findElectronBinary();
    if (!binary) {
      io.log("Electron's runtime is not installed here, so PriceDrop runs headless: open the address below in a browser.");
      args.switches.add('headless');
      return runHeadless(args, io);
    }
    const root = packageRoot();
    const extra = args.flags.has('workspace') ? ['--workspace', args.flags.get('workspace')!] : [];
    const child = spawn(binary, [join(root, 'dist', 'electron', 'main.mjs'), ...extra], { stdio: 'inherit' });
    return new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
  },
};
