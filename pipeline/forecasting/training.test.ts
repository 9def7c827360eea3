import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '../cache/cache-db';
import { parseArgs, type CommandIo } from '../base/command-line';
import { predictCommand } from '../cli/predict-command';
import { backtestCommand } from '../cli/backtest-command';
import { FEATURE_NAMES } from '../../model/features';
import { DAY_MS } from '../base/time';
import type { TrainReport } from '../../model/training';
import { trainModel } from './workspace-training';
import { trainModelInWorker } from './train-model-runner';
import { featuresFromRecord, loadModel, predictFromFeatures } from '../../model/predictor';
import { predictProduct, productStates } from './cache-predictions';
import { writeFixtureCache } from './fixture-cache';

const workspaces: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pricedrop-model-'));
  workspaces.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

function captureIo(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, log: (m) => stderr.push(m), out: (m) => stdout.push(m), json: (v) => stdout.push(JSON.stringify(v)), progress: () => undefined };
}

describe('training on a learnable fixture', () => {
  const ws = workspace();
  const phases = new Set<string>();
  let report: TrainReport;
  beforeAll(async () => {
    writeFixtureCache(join(ws, 'cache.db'), { products: 60, days: 200 });
    report = await trainModel({ workspace: ws, trees: 40 }, { onProgress: (p) => phases.add(p.phase) });
  });

  it('reports a model that learned, and the backtest of the advice against every baseline on the test period', () => {
    const b = report.backtest;
    expect(b.forecast.auc).toBeGreaterThan(0.9);
    expect(b.forecast.brier_skill).toBeGreaterThan(0.2);
    expect(b.forecast.ece).toBeLessThan(0.1);
    expect(b.forecast.reliability.length).toBeGreaterThan(1);
    expect(report.training_rows).toBeGreaterThan(1000);
    expect(report.positives_rate.train).toBeGreaterThan(0.1);
    // The fixture's cycles are learnable: the model's own policy captures nearly all, and the
    // advice in use is at least as good as every baseline (a tie goes to the baseline).
    expect(b.model.savings_captured_pct).toBeGreaterThan(90);
    expect(b.savings_captured_pct).toBeGreaterThanOrEqual(Math.max(b.rule_baseline.savings_captured_pct, b.frequency_baseline.savings_captured_pct, b.always_buy_now.savings_captured_pct));
    expect(b.worse_than_buy_now_pct).toBeLessThanOrEqual(5);
    expect(b.always_buy_now.savings_captured_pct).toBe(0);
    for (const name of ['always_buy_now', 'rule_baseline', 'rule_tuned', 'frequency_baseline', 'model'] as const) {
      expect(Object.keys(b[name])).toEqual(expect.arrayContaining(['savings_captured_pct', 'savings_captured_pct_by_decision', 'worse_than_buy_now_pct', 'loss_when_worse_mean_pct', 'loss_when_worse_p95_pct', 'waited_pct', 'decisions', 'products']));
    }
    expect(b.ci95.savings_captured_pct[0]).toBeLessThanOrEqual(b.savings_captured_pct);
    expect(b.ci95.savings_captured_pct[1]).toBeGreaterThanOrEqual(b.savings_captured_pct);
    expect(b.segments.history_length.length).toBeGreaterThan(0);
    expect(report.policy_reason).toMatch(/validation/);
    expect([...phases]).toEqual(['reading', 'features', 'classifier', 'drop size', 'deadline change', 'worse', 'validation', 'test', 'saving']);
  });

  it('writes a model file with version, feature schema, options, slices, policy and backtest', () => {
    const file = JSON.parse(readFileSync(join(ws, 'models', 'current.json'), 'utf8'));
    expect(file.format).toBe('pricedrop-model');
    expect(file.format_version).toBe(2);
    expect(file.model_version).toBe(report.model_version);
    expect(file.feature_schema.names).toEqual([...FEATURE_NAMES]);
    expect(file.options).toMatchObject({ horizon_days: 14, min_drop_pct: 5, trees: 40 });
    expect(file.training_window.gap_days).toBe(14);
    expect(file.policy.in_use).toBe(report.policy);
    expect(file.backtest.savings_captured_pct).toBe(report.backtest.savings_captured_pct);
    expect(file.source_kinds).toEqual({ fixture: 'snapshots' });
    expect(file.categories).toEqual(['bakery', 'dairy', 'drinks', 'snacks']);
  });

  it('splits by time: train | H | validation | H | test, and says how much each slice had', () => {
    const w = report.training_window;
    const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
    expect(day(w.validation_from) - day(w.train_to) - 1).toBe(14);
    expect(day(w.test_from) - day(w.validation_to) - 1).toBe(14);
    for (const slice of ['train', 'validation', 'test'] as const) {
      expect(report.slices[slice].products).toBe(60);
      expect(report.slices[slice].decisions).toBeGreaterThan(0);
    }
    expect(report.backtest.period).toEqual({ from: w.test_from, to: w.test_to });
  });

  it('predicts with exactly the documented JSON fields, through the CLI', async () => {
    const io = captureIo();
    await predictCommand.run(parseArgs(['--product', 'P0003', '--workspace', ws, '--json']), io);
    const prediction = JSON.parse(io.stdout.at(-1)!);
    expect(Object.keys(prediction)).toEqual(['product_id', 'will_drop', 'confidence', 'expected_drop_amount', 'expected_drop_pct', 'risk_level', 'recommendation', 'reasons', 'policy']);
    expect(prediction.product_id).toBe('P0003');
    expect(typeof prediction.will_drop).toBe('boolean');
    expect(prediction.confidence).toBeGreaterThanOrEqual(0.5);
    expect(prediction.confidence).toBeLessThanOrEqual(1);
    expect(['Low', 'Medium', 'High']).toContain(prediction.risk_level);
    expect(['Wait', 'Buy now']).toContain(prediction.recommendation);
    // The three never contradict: will_drop means Wait, and the advice is more likely right than not.
    expect(prediction.will_drop).toBe(prediction.recommendation === 'Wait');
    expect(prediction.policy).toBe(report.policy);
    expect(prediction.reasons.length).toBeGreaterThan(0);
    // A baseline in use is named first; the model's features follow.
    expect(prediction.reasons[0].feature).toBe(report.policy === 'model' ? prediction.reasons[0].feature : 'policy');
    for (const reason of prediction.reasons.slice(report.policy === 'model' ? 0 : 1)) expect(FEATURE_NAMES).toContain(reason.feature);
    expect(typeof prediction.reasons[0].text).toBe('string');
  });

  it('never contradicts itself on any product, and estimates the drop size from the model, not a constant', () => {
    const model = loadModel(report.model_file);
    const db = openCache(join(ws, 'cache.db'), { readonly: true });
    const predictions = [...productStates(db, model, { historyDays: 0 })].map((state) => predictFromFeatures(model, state.features, state.product_id));
    db.close();
    expect(predictions.length).toBe(60);
    for (const p of predictions) {
      expect(p.will_drop).toBe(p.recommendation === 'Wait');
      expect(p.confidence).toBeGreaterThanOrEqual(0.5);
    }
    expect(new Set(predictions.map((p) => p.recommendation)).size).toBe(2);
    expect(new Set(predictions.map((p) => p.expected_drop_pct)).size).toBeGreaterThan(1);
  });

  it('exports product states that predict the same without a database', () => {
    const model = loadModel(report.model_file);
    const db = openCache(join(ws, 'cache.db'), { readonly: true });
    const states = [...productStates(db, model, { historyDays: 30 })];
    const direct = predictProduct(db, model, 'P0004');
    db.close();
    expect(states.length).toBe(60);
    const state = states.find((s) => s.product_id === 'P0004')!;
    expect(state.features.length).toBe(FEATURE_NAMES.length);
    expect(state.history.length).toBeGreaterThan(0);
    expect(Date.parse(state.history[0]!.t)).toBeLessThanOrEqual(Date.parse(state.as_of) - 30 * DAY_MS);
    const fromBundle = predictFromFeatures(model, state.features, 'P0004');
    expect(fromBundle.confidence).toBe(direct.confidence);
    const record = Object.fromEntries(FEATURE_NAMES.map((name, f) => [name, state.features[f]]));
    expect(predictFromFeatures(model, featuresFromRecord(model, record), 'P0004')).toEqual(fromBundle);
    expect(() => featuresFromRecord(model, { ...record, price: 'x' })).toThrow(/price/);
  });

  it('backtests the model on its test period through the CLI', async () => {
    const io = captureIo();
    await backtestCommand.run(parseArgs(['--workspace', ws, '--json']), io);
    const result = JSON.parse(io.stdout.at(-1)!);
    // The same decisions, the same advice: the CLI recomputes what training reported.
    expect(result).toEqual({ model_version: report.model_version, ...report.backtest });
    expect(result.decisions).toBeGreaterThan(100);
  });
});

describe('predicting from a cache the ETL writer filled', () => {
  it('predicts one product exactly as the batch of every product does (the same cross-section)', async () => {
    const ws = workspace();
    writeFixtureCache(join(ws, 'cache.db'), { products: 24, days: 150, seed: 3 });
    const report = await trainModel({ workspace: ws, trees: 10 });
    const model = loadModel(report.model_file);
    const reader = openCache(join(ws, 'cache.db'), { readonly: true });
    const states = [...productStates(reader, model)];
    for (const state of states.slice(0, 6)) {
      const direct = predictProduct(reader, model, state.product_id);
      expect(direct.features).toEqual(state.features);
      expect(direct).toMatchObject(predictFromFeatures(model, state.features, state.product_id));
    }
    reader.close();
    // The cross-section is really exercised (not 0 everywhere).
    expect(states.some((state) => state.features[FEATURE_NAMES.indexOf('category_drop_rate_90d')]! > 0)).toBe(true);
  });
});

describe('training on awkward histories', () => {
  it('trains on change-event logs with gaps and several currencies', async () => {
    const ws = workspace();
    writeFixtureCache(join(ws, 'cache.db'), { products: 40, days: 200, mode: 'changes', gap: { fromDay: 60, toDay: 75 }, currency: (p) => (p % 2 ? 'ZAR' : 'EUR') });
    const report = await trainModel({ workspace: ws, trees: 20 });
    expect(report.source_kinds).toEqual({ fixture: 'changes' });
    expect(report.training_rows).toBeGreaterThan(200);
    expect(report.backtest.forecast.auc).toBeGreaterThan(0.8);
    expect(report.backtest.currencies).toEqual(['EUR', 'ZAR']);
  });

  it('says clearly when there is no cache or too little history', async () => {
    await expect(trainModel({ workspace: join(workspace(), 'nothing') })).rejects.toThrow(/no cache/);
    const ws = workspace();
    writeFixtureCache(join(ws, 'cache.db'), { products: 3, days: 10 });
    await expect(trainModel({ workspace: ws })).rejects.toThrow(/spans 10 days; a 14-day horizon needs at least 84/);
  });

  it('trains on a worker thread with progress events, and stops on abort without writing a model', async () => {
    const ws = workspace();
    writeFixtureCache(join(ws, 'cache.db'), { products: 30, days: 150 });
    const phases: string[] = [];
    const report = await trainModelInWorker({ workspace: ws, trees: 10, out: join(ws, 'm.json') }, { onProgress: (p) => phases.push(p.phase) });
    expect(existsSync(report.model_file)).toBe(true);
    expect(phases).toContain('classifier');
    const controller = new AbortController();
    const run = trainModelInWorker({ workspace: ws, trees: 200, out: join(ws, 'aborted.json') }, { signal: controller.signal, onProgress: (p) => p.phase === 'classifier' && controller.abort() });
    await expect(run).rejects.toThrow();
    expect(existsSync(join(ws, 'aborted.json'))).toBe(false);
  }, 60_000);
});
