import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache } from '../pipeline/cache/cache-db';
import { parseArgs, type CommandIo } from '../pipeline/cli/command';
import { predictCommand } from '../pipeline/cli/predict-command';
import { backtestCommand } from '../pipeline/cli/backtest-command';
import { DAY_MS, FEATURE_NAMES } from './features';
import { buildDataset, timeSplit } from './dataset';
import { trainModel, type TrainReport } from './training';
import { trainModelInWorker } from './train-model-runner';
import { featuresFromRecord, loadModel, predictFromFeatures } from './predictor';
import { predictProduct, productStates } from './cache-predictions';
import { fixtureRows, writeFixtureCache } from './test-fixtures';
import { createObservationWriter } from '../pipeline/cache/observation-writer';

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

  it('reports test metrics of a model that learned (AUC, PR-AUC, Brier, calibration, P/R)', () => {
    expect(report.auc).toBeGreaterThan(0.9);
    expect(report.pr_auc).toBeGreaterThan(0.8);
    expect(report.brier).toBeLessThan(report.brier_base_rate);
    expect(report.rows.train).toBeGreaterThan(1000);
    expect(report.positives_rate.train).toBeGreaterThan(0.1);
    expect(report.calibration.length).toBeGreaterThan(1);
    expect(report.at_threshold.threshold).toBe(0.5);
    expect(report.at_wait_threshold.threshold).toBe(report.options.wait_threshold);
    expect(report.at_wait_threshold.recall).toBeGreaterThanOrEqual(report.at_threshold.recall - (report.options.wait_threshold <= 0.5 ? 0 : 1));
    expect([...phases]).toEqual(['reading', 'calibration', 'classifier', 'drop size', 'evaluating', 'saving']);
  });

  it('writes a model file with version, feature schema, options, training window and metrics', () => {
    const file = JSON.parse(readFileSync(join(ws, 'models', 'current.json'), 'utf8'));
    expect(file.format).toBe('pricedrop-model');
    expect(file.model_version).toBe(report.model_version);
    expect(file.feature_schema.names).toEqual([...FEATURE_NAMES]);
    expect(file.options).toMatchObject({ horizon_days: 14, min_drop_pct: 5, threshold: 0.5, trees: 40, wait_threshold_source: 'tuned' });
    expect(file.options.risk_bands.medium).toBe(file.options.wait_threshold);
    expect(file.training_window.gap_days).toBe(14);
    expect(file.metrics.auc).toBe(report.auc);
    expect(file.categories).toEqual(['bakery', 'dairy', 'drinks', 'snacks']);
  });

  it('splits by time with a gap of H days: no training label window reaches the test period', () => {
    const db = openCache(join(ws, 'cache.db'), { readonly: true });
    const dataset = buildDataset(db, { horizonDays: 14, minDropPct: 5 });
    db.close();
    const split = timeSplit(dataset);
    let lastTrain = 0;
    for (const i of split.train) lastTrain = Math.max(lastTrain, dataset.t[i]!);
    let firstTest = Number.POSITIVE_INFINITY;
    for (const i of split.test) firstTest = Math.min(firstTest, dataset.t[i]!);
    expect(lastTrain + 14 * DAY_MS).toBeLessThan(firstTest);
    expect(split.test.length).toBeGreaterThan(0);
    expect(new Date(split.testStart).toISOString()).toBe(report.training_window.test_from);
  });

  it('predicts with exactly the documented JSON fields, through the CLI', async () => {
    const io = captureIo();
    await predictCommand.run(parseArgs(['--product', 'P0003', '--workspace', ws, '--json']), io);
    const prediction = JSON.parse(io.stdout.at(-1)!);
    expect(Object.keys(prediction)).toEqual(['product_id', 'will_drop', 'confidence', 'expected_drop_amount', 'expected_drop_pct', 'risk_level', 'recommendation', 'reasons']);
    expect(prediction.product_id).toBe('P0003');
    expect(typeof prediction.will_drop).toBe('boolean');
    expect(prediction.confidence).toBeGreaterThanOrEqual(0.5);
    expect(prediction.confidence).toBeLessThanOrEqual(1);
    expect(['Low', 'Medium', 'High']).toContain(prediction.risk_level);
    expect(['Wait', 'Buy now']).toContain(prediction.recommendation);
    // Wait exactly when the risk of overpaying is not Low (the bands start at the wait threshold).
    expect(prediction.recommendation === 'Wait').toBe(prediction.risk_level !== 'Low');
    expect(prediction.reasons.length).toBeGreaterThan(0);
    expect(FEATURE_NAMES).toContain(prediction.reasons[0].feature);
    expect(typeof prediction.reasons[0].text).toBe('string');
  });

  it('estimates the drop size from the model, not a constant', () => {
    const model = loadModel(report.model_file);
    const db = openCache(join(ws, 'cache.db'), { readonly: true });
    const sizes = new Set(['P0000', 'P0001', 'P0002', 'P0005', 'P0007'].map((id) => predictProduct(db, model, id).expected_drop_pct));
    db.close();
    expect(model.regressor).toBeDefined();
    expect(sizes.size).toBeGreaterThan(1);
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
    expect(result.decisions).toBeGreaterThan(100);
    expect(result.always_buy_now.savings_captured_pct).toBe(0);
    expect(result.savings_captured_pct).toBeGreaterThan(50);
    expect(result.period.from).toBe(report.training_window.test_from);
    for (const key of ['worse_than_buy_now_pct', 'avg_savings_per_decision', 'avg_savings_pct_per_decision']) expect(result).toHaveProperty(key);
    expect(result.rule_baseline).toHaveProperty('savings_captured_pct');
  });
});

describe('predicting from a cache the ETL writer filled (with dashboard rollups)', () => {
  it('reads the category rate from the rollups and predicts exactly as from the full history', async () => {
    const ws = workspace();
    const rows = fixtureRows({ products: 24, days: 150, seed: 3 });
    const db = openCache(join(ws, 'cache.db'));
    const writer = createObservationWriter(db);
    db.transaction(() => {
      writer.writeBatch(rows);
      writer.flush();
    })();
    db.close();
    const report = await trainModel({ workspace: ws, trees: 10 });
    const model = loadModel(report.model_file);
    const reader = openCache(join(ws, 'cache.db'), { readonly: true });
    const rollupRows = (reader.prepare('SELECT COUNT(*) AS n FROM rollup_daily').get() as { n: number }).n;
    const states = [...productStates(reader, model)];
    for (const state of states.slice(0, 6)) {
      const direct = predictProduct(reader, model, state.product_id);
      expect(direct.features).toEqual(state.features);
      expect(direct).toMatchObject(predictFromFeatures(model, state.features, state.product_id));
    }
    reader.close();
    expect(rollupRows).toBeGreaterThan(0);
    // The category rate is really exercised (not 0 everywhere).
    expect(states.some((state) => state.features[FEATURE_NAMES.indexOf('category_drop_rate_30d')]! > 0)).toBe(true);
  });
});

describe('training on awkward histories', () => {
  it('trains on change-event logs with gaps and several currencies', async () => {
    const ws = workspace();
    writeFixtureCache(join(ws, 'cache.db'), { products: 40, days: 200, mode: 'changes', gap: { fromDay: 60, toDay: 75 }, currency: (p) => (p % 2 ? 'ZAR' : 'EUR') });
    const report = await trainModel({ workspace: ws, trees: 20 });
    expect(report.rows.train).toBeGreaterThan(200);
    expect(report.auc).toBeGreaterThan(0.8);
  });

  it('says clearly when there is no cache or too little history', async () => {
    await expect(trainModel({ workspace: join(workspace(), 'nothing') })).rejects.toThrow(/no cache/);
    const ws = workspace();
    writeFixtureCache(join(ws, 'cache.db'), { products: 3, days: 10 });
    await expect(trainModel({ workspace: ws })).rejects.toThrow(/horizon|training rows/);
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
