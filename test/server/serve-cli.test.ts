import { describe, expect, it } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli-process';
import { buildFixtureBundle } from './fixture-bundle';

const execFileAsync = promisify(execFile);

/** `pricedrop publish` and `pricedrop serve` as users run them: the built CLI (npm test builds it first). */
describe('pricedrop publish and pricedrop serve (built CLI)', () => {
  it('publishes a bundle with --json, serves it, and stops on SIGTERM with exit 0', async () => {
    const fixture = await buildFixtureBundle();
    const out = join(mkdtempSync(join(tmpdir(), 'pricedrop-cli-bundle-')), 'bundle.json.gz');
    const publish = spawnSync(process.execPath, [CLI, 'publish', '--workspace', fixture.workspace, '--model', fixture.modelFile, '--out', out, '--json'], { encoding: 'utf8' });
    expect(publish.status, publish.stderr).toBe(0);
    const report = JSON.parse(publish.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(report).toMatchObject({ out, model_version: fixture.modelVersion, products: 60, duplicate_ids: 0, etag: null });
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);

    const child = spawn(process.execPath, [CLI, 'serve', '--bundle', out, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await expect.poll(() => text, { timeout: 20_000 }).toMatch(/PriceDrop predictor is serving at http:\/\/127\.0\.0\.1:\d+\//);
    const url = /serving at (\S+)/.exec(text)![1]!;
    const health = (await (await fetch(new URL('/health', url))).json()) as { model_version: string; products: number };
    expect(health).toMatchObject({ model_version: fixture.modelVersion, products: 60 });

    // The same predictor: the server's answer is exactly what `pricedrop predict --json` prints.
    for (const id of ['coffee-1kg', 'tea-100', 'p0010']) {
      // Asynchronously: a blocked event loop would miss the server closing an idle keep-alive
      // socket, and the next fetch would be sent on a dead one.
      const cli = await execFileAsync(process.execPath, [CLI, 'predict', '--product', id, '--workspace', fixture.workspace, '--model', fixture.modelFile, '--json'], { encoding: 'utf8' });
      const fromCli = JSON.parse(cli.stdout.trim().split('\n').pop()!) as unknown;
      const fromServer = (await (await fetch(new URL('/api/predict', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ product_id: id }) })).json()) as unknown;
      expect(fromServer).toEqual(fromCli);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('explains bad usage (exit 2) and a missing model (exit 1)', () => {
    const noBundle = spawnSync(process.execPath, [CLI, 'serve'], { encoding: 'utf8' });
    expect(noBundle.status).toBe(2);
    expect(noBundle.stderr).toMatch(/--bundle is required/);
    const badOrigin = spawnSync(process.execPath, [CLI, 'serve', '--bundle', 'x', '--cors-origin', 'evil'], { encoding: 'utf8' });
    expect(badOrigin.status).toBe(2);
    expect(badOrigin.stderr).toMatch(/--cors-origin must be an origin/);
    const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-cli-empty-'));
    const noModel = spawnSync(process.execPath, [CLI, 'publish', '--workspace', workspace, '--out', join(workspace, 'b.gz')], { encoding: 'utf8' });
    expect(noModel.status).toBe(1);
    expect(noModel.stderr).toMatch(/cannot read the model .*no such file \(train one first: pricedrop train\)/);
  });
});
