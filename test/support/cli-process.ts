import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'pipeline', 'cli', 'bin.mjs');

export function tempWorkspace(prefix = 'pricedrop-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServingProcess {
  child: ChildProcess;
  /** The address it printed, with the launch token: `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  /** The same without the token: `http://127.0.0.1:PORT/`. */
  base: string;
  token: string;
  /** Headers for a script's API call: the bearer token. */
  auth: Record<string, string>;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Runs `pricedrop start --headless` (the built CLI) and resolves once it prints its address (with
 * its launch token). Extra args are appended; `--port 0` picks a free port.
 */
export async function startHeadless(workspace: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<ServingProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--headless', '--workspace', workspace, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (out += chunk));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address within 30 s:\n${out}`)), 30_000);
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /PriceDrop is serving at (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pricedrop start exited with ${code}:\n${out}`));
    });
  });
  const parsed = new URL(url);
  const token = parsed.searchParams.get('token');
  if (!token) throw new Error(`pricedrop start printed no token: ${url}`);
  return {
    child,
    url,
    base: `${parsed.origin}/`,
    token,
    auth: { Authorization: `Bearer ${token}` },
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
