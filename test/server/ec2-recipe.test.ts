import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { REPO_ROOT } from '../support/cli-process';
import { LoopbackS3, S3RVER_CREDENTIALS } from '../producer/s3rver-server';
import { createS3Client } from '../../model/bundle/bundle-source';
import { buildFixtureBundle, type FixtureBundle } from './fixture-bundle';

/**
 * The EC2 recipe, run here as far as a machine without EC2 allows: build/ec2/user-data.sh in its
 * dry-run mode (installs under a prefix, no useradd/systemctl) with the AWS CLI replaced by a stub
 * that serves `aws s3 cp` and `aws ssm get-parameter` from a folder; then the installed server is
 * started exactly as the systemd unit says (its ExecStart and EnvironmentFile), with the bundle
 * read from s3rver through the SDK's credential chain.
 */
const AWS_STUB = `#!/bin/bash
case "$1 $2" in
  "s3 cp") shift 2; [ "$1" = --only-show-errors ] && shift; cp "$FAKE_S3_DIR/\${1#s3://}" "$2" ;;
  "ssm get-parameter") echo "$FAKE_SSM_VALUE" ;;
  *) echo "aws stub: unsupported: $*" >&2; exit 1 ;;
esac
`;
const API_KEY = 'ssm-key-0123456789abcdef';

describe('the EC2 recipe (user data + systemd unit)', () => {
  let work: string;
  let prefix: string;
  let s3server: LoopbackS3;
  let fixture: FixtureBundle;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pricedrop-ec2-'));
    prefix = join(work, 'root');
    const release = join(work, 'release');
    execFileSync(process.execPath, [join(REPO_ROOT, 'build/server/build-server.mjs'), release], { stdio: 'pipe' });
    const fakeS3 = join(work, 'fake-s3', 'releases', 'pricedrop');
    mkdirSync(fakeS3, { recursive: true });
    execFileSync('tar', ['-C', release, '-czf', join(fakeS3, 'server-release.tar.gz'), '.']);
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'aws'), AWS_STUB);
    chmodSync(join(bin, 'aws'), 0o755);

    fixture = await buildFixtureBundle();
    s3server = new LoopbackS3(mkdtempSync(join(tmpdir(), 'pricedrop-ec2-s3-')), ['models']);
    await s3server.start();
    Object.assign(process.env, S3RVER_CREDENTIALS);
    const s3 = createS3Client(s3server.endpoint);
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'pricedrop/bundle.json.gz', Body: fixture.bytes }));
    s3.destroy();

    const run = spawnSync('bash', [join(REPO_ROOT, 'build/ec2/user-data.sh')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_S3_DIR: join(work, 'fake-s3'),
        FAKE_SSM_VALUE: API_KEY,
        PRICEDROP_DRY_RUN: '1',
        PRICEDROP_PREFIX: prefix,
        RELEASE_URI: 's3://releases/pricedrop/server-release.tar.gz',
        BUNDLE_URI: 's3://models/pricedrop/bundle.json.gz',
        API_KEY_PARAMETER: '/pricedrop/server/api-key',
        REGION: 'eu-west-1',
      },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await s3server?.stop();
  });

  it('installs the release, the unit from the release, and a root-only settings file', () => {
    const app = join(prefix, 'opt/pricedrop-server');
    expect(statSync(join(app, 'server.mjs')).isFile()).toBe(true);
    expect(statSync(join(app, 'public/vendor/echarts.min.js')).isFile()).toBe(true);
    const unit = readFileSync(join(prefix, 'etc/systemd/system/pricedrop-server.service'), 'utf8');
    expect(unit).toBe(readFileSync(join(REPO_ROOT, 'build/ec2/pricedrop-server.service'), 'utf8'));
    expect(unit).toMatch(/^User=pricedrop$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node (--\S+ )*\/opt\/pricedrop-server\/server\.mjs$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/pricedrop\/server\.env$/m);
    const envFile = join(prefix, 'etc/pricedrop/server.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const env = readFileSync(envFile, 'utf8');
    expect(env).toContain('PRICEDROP_BUNDLE=s3://models/pricedrop/bundle.json.gz\n');
    expect(env).toContain('AWS_REGION=eu-west-1\n');
    expect(env).toContain(`PRICEDROP_API_KEY=${API_KEY}\n`);
    expect(env).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET/);
  });

  it('starts as the unit says and serves the bundle from S3, key required', async () => {
    const unit = readFileSync(join(prefix, 'etc/systemd/system/pricedrop-server.service'), 'utf8');
    const [, flags, script] = /^ExecStart=\/usr\/bin\/node ((?:--\S+ )*)(\S+)$/m.exec(unit)!;
    const envFile = /^EnvironmentFile=(\S+)$/m.exec(unit)![1]!;
    const settings = Object.fromEntries(
      readFileSync(join(prefix, envFile), 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    // Here only: loopback, a free port, and s3rver instead of AWS (the instance role is the SDK's default chain).
    let out = '';
    server = spawn(process.execPath, [...flags!.trim().split(' ').filter(Boolean), join(prefix, script!)], {
      env: { ...settings, PATH: process.env.PATH, ...S3RVER_CREDENTIALS, AWS_REGION: 'us-east-1', PRICEDROP_HOST: '127.0.0.1', PRICEDROP_PORT: '0', PRICEDROP_S3_ENDPOINT: s3server.endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    await expect.poll(() => out, { timeout: 20_000 }).toMatch(/serving at http:\/\/127\.0\.0\.1:\d+/);
    const url = /serving at (http:\/\/\S+)/.exec(out)![1]!;
    const health = (await (await fetch(new URL('/health', url))).json()) as { model_version: string };
    expect(health.model_version).toBe(fixture.modelVersion);
    expect((await fetch(new URL('/api/model', url))).status).toBe(401);
    expect((await fetch(new URL('/api/model', url), { headers: { 'X-API-Key': API_KEY } })).status).toBe(200);
  });

  it('passes systemd-analyze verify where systemd is installed', () => {
    const verify = spawnSync('systemd-analyze', ['verify', join(REPO_ROOT, 'build/ec2/pricedrop-server.service')], { encoding: 'utf8' });
    if (verify.error) return console.warn('systemd-analyze is not installed: unit syntax not verified');
    expect(verify.stderr.trim()).toBe('');
  });
});
