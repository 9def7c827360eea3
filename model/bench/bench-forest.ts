import { readFileSync } from 'node:fs';
import { RandomForestClassifier } from 'ml-random-forest';
import { fitForest } from '../forest/train-forest';
import { predictRow, resolveMaxFeatures, type ForestOptions } from '../forest/random-forest';
import { rocAuc } from '../evaluation/metrics';

/** A numeric CSV loaded as feature columns plus one label column. */
export interface NumericTable {
  names: string[];
  columns: Float64Array[];
  label: Float64Array;
  rows: number;
}

/** Reads a CSV with a header row whose cells are all numbers (empty = NaN). */
export function readNumericCsv(file: string, labelColumn: string): NumericTable {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((name) => name.trim().replace(/^"|"$/g, ''));
  const labelIndex = header.indexOf(labelColumn);
  if (labelIndex < 0) throw new Error(`${file}: no column "${labelColumn}" (columns: ${header.join(', ')})`);
  const rows = lines.length - 1;
  const featureIndexes = header.map((_, i) => i).filter((i) => i !== labelIndex);
  const columns = featureIndexes.map(() => new Float64Array(rows));
  const label = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1]!.split(',');
    if (cells.length !== header.length) throw new Error(`${file}:${r + 2}: ${cells.length} cells, header has ${header.length}`);
    label[r] = Number(cells[labelIndex]);
    featureIndexes.forEach((c, f) => {
      const cell = cells[c]!.trim();
      columns[f]![r] = cell === '' ? Number.NaN : Number(cell);
    });
  }
  return { names: featureIndexes.map((i) => header[i]!), columns, label, rows };
}

export interface BenchForestOptions {
  train: string;
  test: string;
  label: string;
  trees: number;
  maxDepth: number;
  maxFeatures: 'sqrt' | number;
  minSamplesLeaf: number;
  seed: number;
  threads?: number;
  /** 'pricedrop' (this forest) or 'ml-random-forest' (the npm package, for the record). */
  implementation: 'pricedrop' | 'ml-random-forest';
}

export interface BenchForestResult {
  train_ms: number;
  predict_ms: number;
  auc: number;
  rows_train: number;
  rows_test: number;
  features: number;
  predict_us_per_row: number;
  implementation: string;
  threads: number;
}

/** Trains on one CSV, scores another, and times both (the CSV parsing is not timed). */
export async function benchForest(options: BenchForestOptions, onProgress?: (done: number, total: number) => void): Promise<BenchForestResult> {
  const train = readNumericCsv(options.train, options.label);
  const test = readNumericCsv(options.test, options.label);
  if (test.names.join(',') !== train.names.join(',')) throw new Error('train and test CSVs must have the same columns');
  const features = train.columns.length;
  const testRows = Array.from({ length: test.rows }, (_, i) => Float64Array.from(test.columns, (column) => column[i]!));
  let scores: Float64Array;
  let trainMs: number;
  let predictMs: number;
  let threads: number;
  if (options.implementation === 'ml-random-forest') {
    threads = 1;
    const matrix = Array.from({ length: train.rows }, (_, i) => Array.from(train.columns, (column) => column[i]!));
    const started = performance.now();
    // ml-random-forest samples features per tree (not per split); give it the same count.
    const classifier = new RandomForestClassifier({
      nEstimators: options.trees,
      maxFeatures: resolveMaxFeatures(options.maxFeatures, features),
      replacement: false,
      useSampleBagging: true,
      seed: options.seed,
      noOOB: true,
      treeOptions: { maxDepth: options.maxDepth, minNumSamples: options.minSamplesLeaf },
    });
    classifier.train(matrix, Array.from(train.label, (v) => (v > 0.5 ? 1 : 0)));
    trainMs = performance.now() - started;
    const predictStarted = performance.now();
    scores = Float64Array.from(classifier.predictProbability(testRows.map((row) => Array.from(row)), 1));
    predictMs = performance.now() - predictStarted;
  } else {
    const forestOptions: ForestOptions = { trees: options.trees, maxDepth: options.maxDepth, maxFeatures: options.maxFeatures, minSamplesLeaf: options.minSamplesLeaf, bootstrap: true, seed: options.seed };
    const started = performance.now();
    const fit = await fitForest({ columns: train.columns, y: train.label }, forestOptions, { threads: options.threads, onProgress });
    const forest = fit.forest;
    threads = fit.threads;
    trainMs = performance.now() - started;
    const predictStarted = performance.now();
    scores = new Float64Array(test.rows);
    for (let i = 0; i < test.rows; i++) scores[i] = predictRow(forest, testRows[i]!);
    predictMs = performance.now() - predictStarted;
  }
  return {
    train_ms: Math.round(trainMs * 10) / 10,
    predict_ms: Math.round(predictMs * 10) / 10,
    auc: Math.round(rocAuc(test.label, scores) * 10000) / 10000,
    rows_train: train.rows,
    rows_test: test.rows,
    features,
    predict_us_per_row: Math.round((predictMs * 1000 * 100) / Math.max(1, test.rows)) / 100,
    implementation: options.implementation,
    threads,
  };
}
