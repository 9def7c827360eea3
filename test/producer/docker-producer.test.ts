import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerControl, type ProducerControl, type ProducerStatus } from '../../pipeline/docker/producer-control';
import { REPO_ROOT } from '../support/cli-process';
import { parseRawBatch, producerBundle, readLakeRows, tempFolder } from './producer-harness';
import { LoopbackS3, S3RVER_CREDENTIALS } from './s3rver-server';

const BASE_IMAGE = process.env.PRICEDROP_BASE_IMAGE ?? 'local/node-base:20';
const docker = new Docker();

async function dockerAnswers(): Promise<boolean> {
  try {
    await Promise.race([docker.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000))]);
    return true;
  } catch {
    return false;
  }
}

const haveDocker = await dockerAnswers();
if (!haveDocker) console.warn('docker-producer: SKIPPED: no Docker engine answers on /var/run/docker.sock (CI starts one in .ci/run; locally: apt-get install -y docker.io && dockerd &)');

function waitFor(control: ProducerControl, states: ProducerStatus['state'][], timeoutMs: number): Promise<ProducerStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`producer did not reach ${states.join('/')} in ${timeoutMs} ms`)), timeoutMs);
    const check = (status: ProducerStatus) => {
      if (states.includes(status.state)) {
        clearTimeout(timer);
        off();
        resolve(status);
      }
    };
    const off = control.onStatus(check);
    void control.status().then(check);
  });
}

describe.skipIf(!haveDocker)('the producer container on a real Docker engine', () => {
  const work = tempFolder('pricedrop-docker-');
  const s3 = new LoopbackS3(join(work.path, 's3'), ['lake']);
  let client: S3Client;

  beforeAll(async () => {
    const setup = spawnSync('bash', [join(REPO_ROOT, '.ci', 'docker-setup.sh'), BASE_IMAGE], { encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`.ci/docker-setup.sh failed: ${setup.stderr}`);
    await s3.start();
    client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await s3.stop();
    work.remove();
  });

  async function bucketRows(prefix: string): Promise<string[][]> {
    const listing = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix }));
    const rows: string[][] = [];
    for (const object of listing.Contents ?? []) {
      const body = await client.send(new GetObjectCommand({ Bucket: 'lake', Key: object.Key! }));
      rows.push(...parseRawBatch(await body.Body!.transformToString(), object.Key!));
    }
    return rows;
  }

  it('builds the image on the local base image and runs it on the host network, writing to the loopback S3 server', async () => {
    const control = createProducerControl({ workspace: join(work.path, 'ws1'), baseImage: BASE_IMAGE, networkMode: 'host', runner: 'docker' });
    const lines: string[] = [];
    control.onLog((line) => lines.push(line.line));
    const started = await control.start({ source: 'simulator', products: 20, backfillDays: 5, maxRecords: 100, sink: 's3://lake/docker', s3Endpoint: s3.endpoint, env: S3RVER_CREDENTIALS });
    expect(started.runner).toBe('docker');
    expect(started.image).toMatch(/^pricedrop\/producer:[0-9a-f]{12}$/);
    const done = await waitFor(control, ['exited', 'failed'], 60_000);
    expect(done, lines.join('\n')).toMatchObject({ state: 'exited', exitCode: 0, summary: { records: 100, batches: 5, rejected: 0 } });
    expect(await bucketRows('docker/')).toHaveLength(100);
    // The credentials went in as environment, never into the logs.
    expect(lines.join('\n')).not.toContain('S3RVER');
    // The image runs as the unprivileged user, with a health check.
    const info = await docker.getImage(started.image!).inspect();
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.Healthcheck?.Test).toEqual(['CMD', 'node', '/app/producer.mjs', '--healthcheck']);
  }, 120_000);

  it('stop() sends SIGTERM: the container delivers its open batch and exits 0', async () => {
    const control = createProducerControl({ workspace: join(work.path, 'ws2'), baseImage: BASE_IMAGE, networkMode: 'host', runner: 'docker' });
    await control.start({ source: 'simulator', products: 10, intervalSeconds: 0.2, batchAgeMs: 60_000, sink: 's3://lake/stop', s3Endpoint: s3.endpoint, env: S3RVER_CREDENTIALS });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await control.status()).state).toBe('running');
    const stopped = await control.stop();
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(stopped.summary!.records).toBeGreaterThan(0);
    // Nothing reached S3 before the stop (batch age 60 s): the open batch was flushed by SIGTERM.
    expect(await bucketRows('stop/')).toHaveLength(stopped.summary!.records);
  }, 60_000);

  it('a new session adopts the container an earlier one left running, and can stop it', async () => {
    const workspace = join(work.path, 'ws4');
    const first = createProducerControl({ workspace, baseImage: BASE_IMAGE, runner: 'docker' });
    await first.start({ source: 'simulator', products: 5, intervalSeconds: 0.5, sink: 's3://lake/adopt', s3Endpoint: s3.endpoint, env: S3RVER_CREDENTIALS });
    await new Promise<void>((resolve) => {
      const off = first.onLog((line) => {
        if (line.line.startsWith('producer: source simulator')) {
          off();
          resolve();
        }
      });
    });
    // The app quits without stopping it; the next session creates its own control.
    const second = createProducerControl({ workspace, baseImage: BASE_IMAGE, runner: 'docker' });
    const adopted = await second.status();
    expect(adopted).toMatchObject({ state: 'running', runner: 'docker', runnerReason: expect.stringMatching(/already running/) });
    await expect(second.start({ source: 'simulator' })).rejects.toThrow(/already running/);
    const stopped = await second.stop();
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 0 });
  }, 60_000);

  it('writes to a host lake folder through a bind mount, as the host user', async () => {
    const workspace = join(work.path, 'ws3');
    const control = createProducerControl({ workspace, baseImage: BASE_IMAGE, runner: 'docker' });
    await control.start({ source: 'simulator', products: 10, backfillDays: 3, maxRecords: 30 });
    const done = await waitFor(control, ['exited', 'failed'], 60_000);
    expect(done).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(readLakeRows(join(workspace, 'lake'))).toHaveLength(30);
  }, 60_000);
});

describe('the child-process fallback when no Docker engine answers', () => {
  it('runs the same producer as a child process and says so', async () => {
    const work = tempFolder('pricedrop-fallback-');
    try {
      const bundle = await producerBundle();
      const control = createProducerControl({ workspace: work.path, docker: new Docker({ socketPath: join(work.path, 'no-docker.sock') }), processCommand: [process.execPath, bundle] });
      const started = await control.start({ source: 'simulator', products: 10, backfillDays: 2, maxRecords: 20 });
      expect(started.runner).toBe('process');
      expect(started.runnerReason).toMatch(/^Docker is not available/);
      const done = await waitFor(control, ['exited', 'failed'], 30_000);
      expect(done).toMatchObject({ state: 'exited', exitCode: 0, summary: { records: 20 } });
      expect(readLakeRows(join(work.path, 'lake'))).toHaveLength(20);
    } finally {
      work.remove();
    }
  }, 60_000);
});

describe.skipIf(!haveDocker)('auto runner when the image cannot be built', () => {
  it('falls back to a child process and says why', async () => {
    const work = tempFolder('pricedrop-fallback-build-');
    try {
      const bundle = await producerBundle();
      const control = createProducerControl({ workspace: work.path, baseImage: 'pricedrop-test/no-such-base:0', processCommand: [process.execPath, bundle] });
      const started = await control.start({ source: 'simulator', products: 5, backfillDays: 1, maxRecords: 5 });
      expect(started.runner).toBe('process');
      expect(started.runnerReason).toMatch(/^Docker could not run the producer/);
      const done = await waitFor(control, ['exited', 'failed'], 30_000);
      expect(done).toMatchObject({ state: 'exited', exitCode: 0, summary: { records: 5 } });
    } finally {
      work.remove();
    }
  }, 60_000);
});
