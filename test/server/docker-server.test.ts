import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { REPO_ROOT } from '../support/cli-process';
import { LoopbackS3, S3RVER_CREDENTIALS } from '../producer/s3rver-server';
import { createS3Client } from '../../model/bundle/bundle-source';
import { buildFixtureBundle } from './fixture-bundle';

/**
 * The server image, built for real from build/server/Dockerfile on the local base image
 * (.ci/docker-setup.sh; no registry is reachable here), run with the bundle in s3rver on the host
 * (--network host). Skipped, with the reason, when no Docker engine or base image is there.
 */
const BASE_IMAGE = process.env.PRICEDROP_BASE_IMAGE ?? 'local/node-base:20';
const IMAGE = 'pricedrop/server:test';

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function dockerReady(): string | undefined {
  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) return 'no Docker engine answers (start dockerd)';
  if (spawnSync('docker', ['image', 'inspect', BASE_IMAGE], { stdio: 'ignore' }).status !== 0) return `no base image ${BASE_IMAGE} (bash .ci/docker-setup.sh)`;
  return undefined;
}

const skipReason = dockerReady();
if (skipReason) console.warn(`docker-server suite skipped: ${skipReason}`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(skipReason !== undefined)('the server image (build/server/Dockerfile)', () => {
  let s3server: LoopbackS3;
  let container = '';
  let port = 0;
  let modelVersion = '';

  beforeAll(async () => {
    const context = mkdtempSync(join(tmpdir(), 'pricedrop-server-image-'));
    execFileSync(process.execPath, [join(REPO_ROOT, 'build/server/build-server.mjs'), context], { stdio: 'pipe' });
    docker(['build', '-q', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, context]);

    s3server = new LoopbackS3(mkdtempSync(join(tmpdir(), 'pricedrop-image-s3-')), ['models']);
    await s3server.start();
    const fixture = await buildFixtureBundle();
    modelVersion = fixture.modelVersion;
    const s3 = createS3Client(s3server.endpoint);
    Object.assign(process.env, S3RVER_CREDENTIALS);
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'pricedrop/bundle.json.gz', Body: readFileSync(fixture.bundleFile) }));
    s3.destroy();

    port = await freePort();
    container = docker([
      'run', '-d', '--network', 'host', '--health-interval', '1s', '--health-start-period', '5s',
      '-e', `PRICEDROP_PORT=${port}`, '-e', 'PRICEDROP_HOST=127.0.0.1',
      '-e', 'PRICEDROP_BUNDLE=s3://models/pricedrop/bundle.json.gz', '-e', `PRICEDROP_S3_ENDPOINT=${s3server.endpoint}`,
      ...Object.entries(S3RVER_CREDENTIALS).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
      IMAGE,
    ]);
  });

  afterAll(async () => {
    if (container) spawnSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
    await s3server?.stop();
  });

  it('serves the bundle from S3 and turns healthy', async () => {
    await expect.poll(() => docker(['inspect', '--format', '{{.State.Health.Status}}', container]), { timeout: 30_000, interval: 500 }).toBe('healthy');
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { model_version: string };
    expect(health.model_version).toBe(modelVersion);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/vendor/echarts.min.js`)).status).toBe(200);
  });

  it('runs as the unprivileged user 1000', () => {
    expect(docker(['inspect', '--format', '{{.Config.User}}', container])).toBe('1000:1000');
    const pid = docker(['inspect', '--format', '{{.State.Pid}}', container]);
    const uid = /Uid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
    expect(uid).toBe('1000');
  });

  it('stops gracefully on docker stop (SIGTERM, exit 0)', () => {
    docker(['stop', '-t', '15', container]);
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', container])).toBe('0');
    const logs = spawnSync('docker', ['logs', container], { encoding: 'utf8' });
    expect(logs.stdout + logs.stderr).toMatch(/Stopping: finishing in-flight requests…\nStopped\./);
  });
});
