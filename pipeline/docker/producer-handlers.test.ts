import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../api/event-bus';
import type { EventMap } from '../app/events';
import { ConflictError, ValidationError } from '../base/errors';
import { forwardProducerEvents, parseStartParams, producerHandlers } from './producer-handlers';
import { createProducerControl } from './producer-control';
import { buildProducerBundle } from '../../producer/build-producer-bundle';

describe('producer/start params', () => {
  it('maps camelCase params and an AWS profile name (to environment, not arguments)', () => {
    const options = parseStartParams({ source: 'dummyjson', url: 'http://127.0.0.1:9/dummyjson', pageSize: 50, once: true, credentials: { awsProfile: 'prod' } });
    expect(options).toMatchObject({ source: 'dummyjson', url: 'http://127.0.0.1:9/dummyjson', pageSize: 50, once: true, env: { AWS_PROFILE: 'prod' } });
  });

  it('refuses secrets from the UI: keys come from the backend environment and AWS chain only', () => {
    expect(() => parseStartParams({ credentials: { bestBuyApiKey: 'k' } })).toThrow(/not accepted/);
    expect(() => parseStartParams({ credentials: { awsSecretAccessKey: 's' } })).toThrow(/not accepted/);
    expect(() => parseStartParams({ credentials: { awsProfile: 'x; rm -rf /' } })).toThrow(/profile name/);
  });

  it('rejects what the producer could not run', () => {
    expect(() => parseStartParams({ source: 'ftp' })).toThrow(ValidationError);
    expect(() => parseStartParams({ source: 'replay' })).toThrow(/file is required/);
    expect(() => parseStartParams({ source: 'shopify' })).toThrow(/url is required/);
    expect(() => parseStartParams({ sink: 'relative/lake' })).toThrow(/absolute/);
    expect(() => parseStartParams({ url: 'file:///etc/passwd' })).toThrow(/http/);
    expect(() => parseStartParams({ products: 0 })).toThrow(/at least 1/);
  });
});

describe('producer handlers', () => {
  it('start → status events → exited with the summary (child-process runner)', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-producer-handlers-'));
    try {
      const bundle = await buildProducerBundle(join(workspace, 'bundle', 'producer.mjs'));
      const events = new EventBus<EventMap>();
      const states: string[] = [];
      const lines: string[] = [];
      events.on('producer/status', (status) => states.push(status.state));
      events.on('log/line', (line) => lines.push(line.message));
      const control = createProducerControl({ workspace, runner: 'process', processCommand: [process.execPath, bundle] });
      forwardProducerEvents(control, events);
      const handlers = producerHandlers({ producer: control });
      const started = await handlers['producer/start']({ source: 'simulator', products: 5, backfillDays: 2, maxRecords: 10 });
      expect(started.runner).toBe('process');
      // A conflict, answered 409 by the transports; two starts at once start one producer.
      await expect(handlers['producer/start']({})).rejects.toThrow(ConflictError);
      await expect(handlers['producer/start']({})).rejects.toThrow(/already running/);
      while (!['exited', 'failed'].includes((await handlers['producer/status']()).state)) await new Promise((resolve) => setTimeout(resolve, 50));
      const status = await handlers['producer/status']();
      expect(status).toMatchObject({ state: 'exited', exitCode: 0, summary: { records: 10 } });
      expect(states).toContain('running');
      expect(lines.some((line) => line.includes('producer: source simulator'))).toBe(true);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses a second start while the first is still asking Docker (one producer, not two)', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-producer-race-'));
    try {
      // A Docker socket that never answers keeps the first start between its check and its first status.
      const control = createProducerControl({ workspace, runner: 'docker', docker: new Docker({ socketPath: join(workspace, 'no-docker.sock') }) });
      const handlers = producerHandlers({ producer: control });
      const first = handlers['producer/start']({});
      const second = handlers['producer/start']({});
      await expect(second).rejects.toThrow(ConflictError);
      await expect(second).rejects.toThrow(/already starting/);
      // No engine there: with the Docker runner asked for, that is a conflict too (409), with the reason.
      await expect(first).rejects.toThrow(ConflictError);
      await expect(first).rejects.toThrow(/Docker is not available/);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
