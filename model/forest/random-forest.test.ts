import { describe, expect, it } from 'vitest';
import { binColumns, binOf, computeEdges } from './binning';
import { createRandom, deserializeForest, explainRow, featureImportance, predictRow, resolveMaxFeatures, serializeForest, trainForestSync, type ForestOptions } from './random-forest';
import { fitForest } from './train-forest';
import { rocAuc } from '../evaluation/metrics';

/** A learnable set: y depends on x0 and x1 through a threshold and an interaction, x2..x5 are noise. */
function syntheticSet(rows: number, seed: number): { columns: Float64Array[]; y: Float64Array } {
  const random = createRandom(seed);
  const columns = Array.from({ length: 6 }, () => new Float64Array(rows));
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    for (const column of columns) column[i] = random() * 2 - 1;
    const signal = columns[0]![i]! + 0.8 * Math.sign(columns[1]![i]!) * (columns[0]![i]! > 0 ? 1 : -0.5);
    y[i] = signal + (random() - 0.5) * 0.6 > 0.2 ? 1 : 0;
  }
  return { columns, y };
}

function binnedData(set: { columns: Float64Array[]; y: Float64Array }) {
  const binned = binColumns(set.y.length, set.columns.length, (f) => set.columns[f]!);
  return { rows: set.y.length, features: set.columns.length, bins: binned.bins, edges: binned.edges, y: set.y };
}

const options: ForestOptions = { trees: 30, maxDepth: 8, maxFeatures: 'sqrt', minSamplesLeaf: 2, bootstrap: true, seed: 7 };

function rowOf(columns: Float64Array[], i: number): Float64Array {
  return Float64Array.from(columns, (column) => column[i]!);
}

describe('binning', () => {
  it('bins exactly when a column has few distinct values, and keeps bin(x) <= b iff x <= edges[b]', () => {
    const values = Float64Array.from([3, 1, 2, 2, 5, 1, Number.NaN]);
    const edges = computeEdges(values);
    expect(Array.from(edges)).toEqual([1.5, 2.5, 4]);
    for (const x of [0, 1, 1.5, 2, 2.6, 4, 5, 9]) {
      const b = binOf(x, edges);
      for (let edge = 0; edge < edges.length; edge++) expect(b <= edge).toBe(x <= edges[edge]!);
    }
    expect(binOf(Number.NaN, edges)).toBe(edges.length);
  });

  it('uses at most 255 edges on a wide column', () => {
    const random = createRandom(1);
    const values = Float64Array.from({ length: 20_000 }, () => random());
    const edges = computeEdges(values);
    expect(edges.length).toBeLessThanOrEqual(255);
    expect(edges.length).toBeGreaterThan(200);
    for (let i = 1; i < edges.length; i++) expect(edges[i]!).toBeGreaterThan(edges[i - 1]!);
  });
});

describe('random forest', () => {
  const train = syntheticSet(4000, 1);
  const test = syntheticSet(2000, 2);

  it('learns a learnable set (test AUC well above chance) and ranks the signal features first', () => {
    const forest = trainForestSync(binnedData(train), options);
    const scores = Float64Array.from({ length: 2000 }, (_, i) => predictRow(forest, rowOf(test.columns, i)));
    expect(rocAuc(test.y, scores)).toBeGreaterThan(0.9);
    const importance = featureImportance(forest);
    const ranked = Array.from(importance.keys()).sort((a, b) => importance[b]! - importance[a]!);
    expect(ranked.slice(0, 2).sort()).toEqual([0, 1]);
  });

  it('is deterministic for a seed, and differs for another seed', () => {
    const data = binnedData(train);
    const a = serializeForest(trainForestSync(data, options));
    const b = serializeForest(trainForestSync(data, options));
    const c = serializeForest(trainForestSync(data, { ...options, seed: 8 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('grows the same forest on worker threads as on this thread', async () => {
    const single = await fitForest({ columns: train.columns, y: train.y }, { ...options, trees: 6 }, { threads: 1 });
    const parallel = await fitForest({ columns: train.columns, y: train.y }, { ...options, trees: 6 }, { threads: 2, useThisThread: false, outOfBag: true });
    expect(parallel.grownByWorkers).toBe(6);
    expect(serializeForest(parallel.forest)).toEqual(serializeForest(single.forest));
    const shared = await fitForest({ columns: train.columns, y: train.y }, { ...options, trees: 6 }, { threads: 1, outOfBag: true });
    // Same trees, summed in another order: equal up to rounding.
    parallel.outOfBag!.forEach((value, i) => (Number.isNaN(value) ? expect(shared.outOfBag![i]).toBeNaN() : expect(value).toBeCloseTo(shared.outOfBag![i]!, 12)));
  }, 60_000);

  it('reports progress per tree and stops on abort', async () => {
    const seen: number[] = [];
    await fitForest({ columns: train.columns, y: train.y }, { ...options, trees: 5 }, { threads: 1, onProgress: (done) => seen.push(done) });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const controller = new AbortController();
    const run = fitForest({ columns: train.columns, y: train.y }, { ...options, trees: 50 }, { threads: 1, signal: controller.signal, onProgress: (done) => done === 2 && controller.abort() });
    await expect(run).rejects.toThrow();
  });

  it('round-trips through JSON unchanged', () => {
    const forest = trainForestSync(binnedData(train), options);
    const restored = deserializeForest(JSON.parse(JSON.stringify(serializeForest(forest))));
    for (let i = 0; i < 200; i++) {
      const row = rowOf(test.columns, i);
      expect(predictRow(restored, row)).toBe(predictRow(forest, row));
    }
  });

  it('refuses a corrupt serialized forest', () => {
    const serialized = serializeForest(trainForestSync(binnedData(train), { ...options, trees: 1 }));
    const broken = { ...serialized, trees: [{ ...serialized.trees[0]!, left: Buffer.from(new Int32Array([0, 0, 0]).buffer).toString('base64') }] };
    expect(() => deserializeForest(broken)).toThrow(/corrupt/);
  });

  it('explains a prediction exactly: bias + contributions = prediction', () => {
    const forest = trainForestSync(binnedData(train), options);
    const row = rowOf(test.columns, 3);
    const explained = explainRow(forest, row);
    const total = explained.bias + explained.contributions.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(predictRow(forest, row), 10);
    expect(explained.prediction).toBeCloseTo(predictRow(forest, row), 10);
  });

  it('regresses a continuous target (variance reduction)', () => {
    const random = createRandom(3);
    const x = Float64Array.from({ length: 3000 }, () => random() * 10);
    const y = Float64Array.from(x, (v) => v * v + (random() - 0.5));
    const binned = binColumns(3000, 1, () => x);
    const forest = trainForestSync({ rows: 3000, features: 1, bins: binned.bins, edges: binned.edges, y }, { ...options, maxFeatures: 1 });
    expect(predictRow(forest, [5])).toBeGreaterThan(23);
    expect(predictRow(forest, [5])).toBeLessThan(27);
  });

  it('resolves max_features like scikit-learn', () => {
    expect(resolveMaxFeatures('sqrt', 12)).toBe(3);
    expect(resolveMaxFeatures(0.5, 12)).toBe(6);
    expect(resolveMaxFeatures(4, 12)).toBe(4);
    expect(resolveMaxFeatures(40, 12)).toBe(12);
  });
});
