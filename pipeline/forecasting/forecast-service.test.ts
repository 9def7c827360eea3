import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachePath, openCache, type CacheDb } from '../cache/cache-db';
import { EventBus } from '../api/event-bus';
import { ConflictError } from '../base/errors';
import { TaskRunner } from '../tasks/task-runner';
import { DEFAULT_SETTINGS, updateSettings } from '../settings/settings-store';
import { defaultModelPath } from '../../model/predictor';
import { DAY_MS } from '../base/time';
import { fixtureRows, type FixtureRow } from '../../model/test-fixtures';
import { writeFixtureRows } from './fixture-cache';
import { useTempDirs } from '../../test/support/temp-dirs';
import { minimumHistoryDays } from '../../model/training';
import { ForecastService, nextTraining, readCacheHistory } from './forecast-service';

const tempDir = useTempDirs('pricedrop-forecast-service-');
const START = Date.parse('2025-01-01T00:00:00Z');

/** A workspace whose cache holds the fixture's first `days` days; `more(days)` adds the following ones. */
function workspaceWith(days: number, rows: FixtureRow[] = fixtureRows({ products: 30, days: 200 })) {
  const workspace = tempDir();
  const cache = openCache(cachePath(workspace));
  const upTo = (d: number) => rows.filter((r) => Date.parse(r.observed_at) < START + d * DAY_MS);
  writeFixtureRows(cache, upTo(days));
  let written = days;
  const tasks = new TaskRunner(cache, new EventBus());
  // Few trees: the service's behaviour is under test, not the forest's.
  const service = new ForecastService({ workspace, cache, tasks, trainDefaults: { trees: 8 } });
  return {
    workspace,
    cache,
    tasks,
    service,
    more(toDay: number) {
      writeFixtureRows(cache, upTo(toDay).filter((r) => Date.parse(r.observed_at) >= START + written * DAY_MS));
      written = toDay;
    },
  };
}

async function settle(tasks: TaskRunner, id: string) {
  const run = await tasks.wait(id);
  expect(run.status, run.message ?? '').toBe('succeeded');
  return run;
}

function close(cache: CacheDb) {
  cache.close();
}

describe('the retrain rule', () => {
  const settings = DEFAULT_SETTINGS.forecaster;
  const history = (productDays: number, days: number) => ({ product_days: productDays, days, from: '2025-01-01', to: '2025-06-01', products: 30 });
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('waits for enough history before a first model, then trains', () => {
    expect(minimumHistoryDays(14)).toBe(84);
    const early = nextTraining({ settings, history: history(2400, 80), horizonDays: 14, now, model: undefined });
    expect(early).toMatchObject({ due: false, minimum_history_days: 84 });
    expect(early.reason).toBe('A first model trains once the cache holds 84 days of history (80 so far, 4 to go).');
    expect(nextTraining({ settings, history: history(2520, 84), horizonDays: 14, now, model: undefined }).due).toBe(true);
  });

  it('retrains on 25 % more product-days, or once the model is a day old and the data grew', () => {
    const model = { created_at: '2025-06-01T00:00:00Z', trained_product_days: 4000, quick: false };
    expect(nextTraining({ settings, history: history(4999, 150), horizonDays: 14, now, model })).toMatchObject({ due: false, product_days_target: 5000 });
    expect(nextTraining({ settings, history: history(5000, 150), horizonDays: 14, now, model }).due).toBe(true);
    const dayLater = now + 24 * 3_600_000;
    expect(nextTraining({ settings, history: history(4000, 150), horizonDays: 14, now: dayLater, model }).due).toBe(false);
    expect(nextTraining({ settings, history: history(4001, 150), horizonDays: 14, now: dayLater, model }).due).toBe(true);
  });

  it('replaces a quick first model with a full one at once', () => {
    const model = { created_at: '2025-06-01T11:59:00Z', trained_product_days: 4000, quick: true };
    expect(nextTraining({ settings, history: history(4000, 150), horizonDays: 14, now, model }).due).toBe(true);
  });

  it('never trains when automatic training is off', () => {
    const off = { ...settings, autoTrain: false };
    expect(nextTraining({ settings: off, history: history(9000, 300), horizonDays: 14, now, model: undefined })).toMatchObject({ due: false, reason: 'Automatic training is off (Settings).' });
  });
});

describe('the forecast service on a real cache', () => {
  it('counts the cache’s product-days from the rollups', () => {
    const { cache } = workspaceWith(40);
    expect(readCacheHistory(cache)).toEqual({ product_days: 30 * 40, days: 40, from: '2025-01-01', to: '2025-02-09', products: 30 });
    close(cache);
  });

  it('trains a first model by itself once the history suffices, one training at a time, and retrains on 25 % growth', async () => {
    const { service, tasks, cache, workspace, more } = workspaceWith(80);
    expect(service.checkAndTrain()).toBeUndefined();
    expect(service.status().next.reason).toMatch(/84 days of history \(80 so far, 4 to go\)/);

    more(150);
    const first = service.checkAndTrain();
    expect(first?.kind).toBe('train');
    expect(first?.label).toMatch(/first model/);
    // No overlap: neither the service nor a user starts a second training while one runs.
    expect(service.checkAndTrain()).toBeUndefined();
    expect(() => service.train({ trees: 4 })).toThrow(ConflictError);
    expect(service.status().training?.id).toBe(first!.id);
    await settle(tasks, first!.id);
    expect(existsSync(defaultModelPath(workspace))).toBe(true);

    // The quick first model is replaced by a full one at once, on the same data.
    expect(service.status().next).toMatchObject({ due: true, reason: 'The model in use is the quick first one: training the full model.' });
    const full = service.checkAndTrain();
    expect(full?.label).toMatch(/full model/);
    await settle(tasks, full!.id);

    const status = service.status();
    expect(status.training).toBeNull();
    expect(status.model).toMatchObject({ version: service.model()!.meta.model_version, trained_on: { products: 30, product_days: 30 * 150 } });
    expect(status.next).toMatchObject({ due: false, product_days_target: Math.ceil(30 * 150 * 1.25) });
    // Nothing new: nothing to do.
    expect(service.checkAndTrain()).toBeUndefined();

    more(180); // +20 %: not yet
    expect(service.checkAndTrain()).toBeUndefined();
    more(190); // +26.7 %
    const retrain = service.checkAndTrain();
    expect(retrain?.label).toMatch(/Retrain/);
    await settle(tasks, retrain!.id);
    expect(service.status().model?.trained_on.product_days).toBe(30 * 190);
    close(cache);
  }, 120_000);

  it('tries a failed automatic training again only once more data has arrived', async () => {
    const { workspace, cache, tasks, more } = workspaceWith(150);
    let calls = 0;
    const failing = new ForecastService({
      workspace,
      cache,
      tasks,
      train: async () => {
        calls++;
        throw new Error('only 3 training rows');
      },
    });
    const run = failing.checkAndTrain();
    expect((await tasks.wait(run!.id)).status).toBe('failed');
    await new Promise((resolve) => setImmediate(resolve)); // the service hears of the failure
    expect(failing.status().last_failure?.message).toBe('only 3 training rows');
    expect(failing.checkAndTrain()).toBeUndefined();
    more(151);
    await tasks.wait(failing.checkAndTrain()!.id);
    expect(calls).toBe(2);
    close(cache);
  });

  it('replaces a model file it cannot use like a missing one', async () => {
    const { service, workspace, cache, tasks } = workspaceWith(150);
    mkdirSync(dirname(defaultModelPath(workspace)), { recursive: true });
    writeFileSync(defaultModelPath(workspace), '{"format":"pricedrop-model","format_version":1,"feature_schema":{"version":0,"names":[]}}');
    expect(service.model()).toBeUndefined();
    expect(service.status()).toMatchObject({ model: null, model_problem: expect.stringMatching(/retrain/) });
    const run = service.checkAndTrain();
    expect(run?.label).toMatch(/first model/);
    tasks.cancel(run!.id);
    expect((await tasks.wait(run!.id)).status).toBe('cancelled');
    close(cache);
  });

  it('does not train when automatic training is off in Settings', () => {
    const { service, workspace, cache } = workspaceWith(150);
    updateSettings(workspace, { forecaster: { autoTrain: false } });
    expect(service.checkAndTrain()).toBeUndefined();
    expect(service.status()).toMatchObject({ auto_train: false, training: null, model: null });
    close(cache);
  });

  it('says which advice is in use and why, with the slices and the backtest, and lists the sources’ kinds', async () => {
    const { service, tasks, cache } = workspaceWith(150, fixtureRows({ products: 30, days: 200, source: 'shop' }));
    await settle(tasks, service.train().id);
    const status = service.status();
    expect(['model', 'rule_tuned', 'frequency_baseline']).toContain(status.model!.policy);
    expect(status.model!.policy_reason).toMatch(/validation/);
    expect(status.model!.slices.test.decisions).toBeGreaterThan(0);
    expect(status.model!.backtest.decisions).toBe(status.model!.slices.test.decisions);
    expect(status.model!.trained_on.products).toBe(30);
    expect(status.sources).toEqual([]);
    cache.prepare("INSERT INTO source_kinds (source, kind, detected, repeat_share) VALUES ('shop', 'snapshots', 1, 0.9)").run();
    expect(service.status().sources).toEqual([{ source: 'shop', kind: 'snapshots', detected: true, repeat_share: 0.9 }]);
    close(cache);
  }, 120_000);
});
