import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli-process';
import { buildFixtureBundle, type FixtureBundle } from './fixture-bundle';

/** The server as the image runs it: build/server/build-server.mjs output, started with plain node. */
interface ServerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output(): string;
}

function startServerProcess(serverDir: string, args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(serverDir, 'server.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /serving at (http:\/\/\S+)/.exec(out);
      if (match) {
        clearInterval(timer);
        resolve({ child, url: match[1]!, exited, output: () => out });
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(Object.assign(new Error(`server exited with ${code}:\n${out}`), { code, out }));
    });
  });
}

describe('the bundled server process (what the image runs)', () => {
  let serverDir: string;
  let fixture: FixtureBundle;

  beforeAll(async () => {
    serverDir = mkdtempSync(join(tmpdir(), 'pricedrop-server-build-'));
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'build/server/build-server.mjs'), serverDir], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    fixture = await buildFixtureBundle();
  });

  afterAll(() => {});

  it('is one file that needs neither the SQLite cache nor node_modules', () => {
    const code = readFileSync(join(serverDir, 'server.mjs'), 'utf8');
    expect(code).not.toContain('better-sqlite3');
    expect(readFileSync(join(serverDir, 'public/vendor/echarts.min.js')).length).toBeGreaterThan(500_000);
  });

  it('finishes an in-flight request on SIGTERM, refuses new connections, and exits 0', async () => {
    const server = await startServerProcess(serverDir, ['--bundle', fixture.bundleFile, '--port', '0']);
    const { port } = new URL(server.url);
    expect((await fetch(new URL('/health', server.url))).status).toBe(200);

    // An in-flight request: headers and half the body sent, the rest after SIGTERM.
    const body = '{"product_id":"coffee-1kg"}';
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (response += chunk));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));

    server.child.kill('SIGTERM');
    await expect.poll(() => server.output()).toMatch(/Stopping/);
    await expect(fetch(new URL('/health', server.url))).rejects.toThrow();

    socket.write(body.slice(10));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toMatch(/Connection: close/i);
    expect(response).toContain('"product_id":"coffee-1kg"');
    expect(await server.exited).toBe(0);
  });

  it('refuses to start on a broken bundle, with a clear message and no stack trace', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'pricedrop-broken-')), 'bundle.json.gz');
    writeFileSync(broken, fixture.bytes.subarray(0, 1000));
    const failure = await startServerProcess(serverDir, ['--bundle', broken, '--port', '0']).catch((error: { code: number; out: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    const out = (failure as { out: string }).out;
    expect(out).toMatch(/not a readable gzip bundle/);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('refuses an empty API key variable (exit 2) and reads PRICEDROP_BUNDLE', async () => {
    const failure = await startServerProcess(serverDir, ['--bundle', fixture.bundleFile, '--api-key-env', 'PRICEDROP_TEST_EMPTY_KEY'], { PRICEDROP_TEST_EMPTY_KEY: '' }).catch((error: { code: number; out: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    const server = await startServerProcess(serverDir, ['--port', '0'], { PRICEDROP_BUNDLE: fixture.bundleFile });
    expect((await fetch(new URL('/health', server.url))).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
