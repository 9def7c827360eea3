import { type BinEdges } from './binning';
import { seededSequence } from '../../pipeline/base/seeded-sequence';

/**
 * A random forest over pre-binned features (see binning.ts), written for speed in plain
 * TypeScript: `ml-random-forest` trained 50 trees on 10,000 rows in 420 s here, this one in
 * well under a second (docs/decisions/0001-random-forest.md has the measurements).
 *
 * One split criterion serves both tasks: a split maximises `sumL²/nL + sumR²/nR`, which is the
 * variance (MSE) reduction for regression and, for labels in {0, 1}, exactly the Gini decrease
 * (Gini of a node with n rows and s positives is 2(s - s²/n)). A node's value is the mean label:
 * the positive-class probability for classification, the mean target for regression.
 *
 * Trees are flat typed arrays; prediction walks `x[feature] <= threshold ? left : right`.
 */
export interface Tree {
  /** Split feature of each node, -1 for a leaf. */
  feature: Int32Array;
  /** Raw-value threshold: go left when `x <= threshold` (NaN goes right). */
  threshold: Float64Array;
  /** The same split as a bin index, for binned data (training-time out-of-bag estimates). */
  binThreshold: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  /** Mean label of the training rows that reached the node (leaves and inner nodes). */
  value: Float64Array;
}

export interface Forest {
  trees: Tree[];
  features: number;
}

export interface ForestOptions {
  trees: number;
  /** Deepest level a leaf may sit at (the root is depth 0), as scikit-learn's max_depth. */
  maxDepth: number;
  /** Features tried per split: 'sqrt' (the classifier default), a fraction (≤ 1) or a count (> 1). */
  maxFeatures: 'sqrt' | number;
  minSamplesLeaf: number;
  bootstrap: boolean;
  seed: number;
}

/** The training set as the grower sees it: binned columns and the label per row. */
export interface TrainingData {
  rows: number;
  features: number;
  /** Column-major bins, `bins[f * rows + i]` (see BinnedColumns). */
  bins: Uint8Array;
  edges: BinEdges[];
  y: Float64Array;
}

/** How many features a split tries, resolved like scikit-learn (at least 1). */
export function resolveMaxFeatures(maxFeatures: 'sqrt' | number, features: number): number {
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(features)));
  if (maxFeatures <= 1) return Math.max(1, Math.min(features, Math.floor(maxFeatures * features)));
  return Math.max(1, Math.min(features, Math.floor(maxFeatures)));
}

/** The forest's seeded sequence (kept under this name for its callers). */
export const createRandom = seededSequence;

/** The seed of tree `index`: depends only on the forest seed, so results do not depend on threading. */
export function treeSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

export interface GrownTree {
  tree: Tree;
  /** How many times each row was drawn into the bootstrap sample (0 = out of bag). */
  inBag: Uint16Array | undefined;
}

/** Grows one tree on binned data. Deterministic for a given seed. */
export function growTree(data: TrainingData, options: ForestOptions, seed: number): GrownTree {
  const { rows: n, bins, y } = data;
  const featureCount = data.features;
  const random = createRandom(seed);
  const mtry = resolveMaxFeatures(options.maxFeatures, featureCount);
  const minLeaf = Math.max(1, options.minSamplesLeaf);

  // Bootstrap as draw counts, expanded in row order: children stay sorted, memory access stays local.
  let index: Int32Array;
  let inBag: Uint16Array | undefined;
  if (options.bootstrap) {
    inBag = new Uint16Array(n);
    for (let i = 0; i < n; i++) inBag[Math.floor(random() * n)]!++;
    index = new Int32Array(n);
    let p = 0;
    for (let i = 0; i < n; i++) for (let c = inBag[i]!; c > 0; c--) index[p++] = i;
  } else {
    index = new Int32Array(n);
    for (let i = 0; i < n; i++) index[i] = i;
  }
  const scratch = new Int32Array(n);

  const feature: number[] = [];
  const binThreshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const addNode = (mean: number): number => {
    feature.push(-1);
    binThreshold.push(0);
    left.push(-1);
    right.push(-1);
    value.push(mean);
    return value.length - 1;
  };

  const histCount = new Float64Array(256);
  const histSum = new Float64Array(256);
  const order = new Int32Array(featureCount);
  for (let f = 0; f < featureCount; f++) order[f] = f;

  const stackStart: number[] = [0];
  const stackEnd: number[] = [n];
  const stackDepth: number[] = [0];
  let rootSum = 0;
  for (let p = 0; p < n; p++) rootSum += y[index[p]!]!;
  const stackSum: number[] = [rootSum];
  const stackNode: number[] = [addNode(n > 0 ? rootSum / n : 0)];

  while (stackNode.length > 0) {
    const start = stackStart.pop()!;
    const end = stackEnd.pop()!;
    const depth = stackDepth.pop()!;
    const sum = stackSum.pop()!;
    const node = stackNode.pop()!;
    const count = end - start;
    if (depth >= options.maxDepth || count < 2 * minLeaf || count < 2) continue;
    let sumSquares = 0;
    for (let p = start; p < end; p++) {
      const v = y[index[p]!]!;
      sumSquares += v * v;
    }
    if (sumSquares - (sum * sum) / count <= 1e-12 * Math.max(1, sumSquares)) continue; // pure node

    const parentScore = (sum * sum) / count;
    let bestScore = parentScore + 1e-12 * Math.max(1, Math.abs(parentScore));
    let bestFeature = -1;
    let bestBin = 0;
    // Draw features without replacement; like scikit-learn, features constant in this node do
    // not count toward max_features, so a node is not left unsplit only for drawing bad ones.
    let tried = 0;
    for (let k = 0; k < featureCount && tried < mtry; k++) {
      const pick = k + Math.floor(random() * (featureCount - k));
      const f = order[pick]!;
      order[pick] = order[k]!;
      order[k] = f;
      const offset = f * n;
      const binCount = data.edges[f]!.length + 1;
      histCount.fill(0, 0, binCount);
      histSum.fill(0, 0, binCount);
      let lowBin = 255;
      let highBin = 0;
      for (let p = start; p < end; p++) {
        const i = index[p]!;
        const b = bins[offset + i]!;
        histCount[b]!++;
        histSum[b]! += y[i]!;
        if (b < lowBin) lowBin = b;
        if (b > highBin) highBin = b;
      }
      if (lowBin === highBin) continue;
      tried++;
      let countLeft = 0;
      let sumLeft = 0;
      for (let b = lowBin; b < highBin; b++) {
        countLeft += histCount[b]!;
        sumLeft += histSum[b]!;
        if (countLeft < minLeaf) continue;
        const countRight = count - countLeft;
        if (countRight < minLeaf) break;
        const sumRight = sum - sumLeft;
        const score = (sumLeft * sumLeft) / countLeft + (sumRight * sumRight) / countRight;
        if (score > bestScore) {
          bestScore = score;
          bestFeature = f;
          bestBin = b;
        }
      }
    }
    if (bestFeature < 0) continue;

    // Stable partition: left rows compacted in place, right rows through the scratch buffer.
    const offset = bestFeature * n;
    let writeLeft = start;
    let writeRight = 0;
    let sumLeft = 0;
    for (let p = start; p < end; p++) {
      const i = index[p]!;
      if (bins[offset + i]! <= bestBin) {
        index[writeLeft++] = i;
        sumLeft += y[i]!;
      } else scratch[writeRight++] = i;
    }
    index.set(scratch.subarray(0, writeRight), writeLeft);
    const countLeft = writeLeft - start;
    const countRight = end - writeLeft;
    const sumRight = sum - sumLeft;
    const leftNode = addNode(sumLeft / countLeft);
    const rightNode = addNode(sumRight / countRight);
    feature[node] = bestFeature;
    binThreshold[node] = bestBin;
    left[node] = leftNode;
    right[node] = rightNode;
    stackStart.push(writeLeft, start);
    stackEnd.push(end, writeLeft);
    stackDepth.push(depth + 1, depth + 1);
    stackSum.push(sumRight, sumLeft);
    stackNode.push(rightNode, leftNode);
  }

  const thresholds = new Float64Array(feature.length);
  for (let node = 0; node < feature.length; node++) {
    const f = feature[node]!;
    if (f >= 0) thresholds[node] = data.edges[f]![binThreshold[node]!]!;
  }
  return {
    tree: {
      feature: Int32Array.from(feature),
      threshold: thresholds,
      binThreshold: Uint8Array.from(binThreshold),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
    },
    inBag,
  };
}

/** One tree's value for a raw feature row. */
export function predictTree(tree: Tree, row: ArrayLike<number>): number {
  const { feature, threshold, left, right, value } = tree;
  let node = 0;
  let f = feature[0]!;
  while (f >= 0) {
    node = (row[f] as number) <= threshold[node]! ? left[node]! : right[node]!;
    f = feature[node]!;
  }
  return value[node]!;
}

/** One tree's value for row `i` of binned column-major data. */
export function predictTreeBinned(tree: Tree, bins: Uint8Array, rows: number, i: number): number {
  const { feature, binThreshold, left, right, value } = tree;
  let node = 0;
  let f = feature[0]!;
  while (f >= 0) {
    node = bins[f * rows + i]! <= binThreshold[node]! ? left[node]! : right[node]!;
    f = feature[node]!;
  }
  return value[node]!;
}

/**
 * Adds the tree's prediction for each out-of-bag row (inBag[i] === 0) of the binned training data to
 * oobSum and counts it in oobCount (the calling thread and the workers both keep such partial sums).
 */
export function accumulateOutOfBag(tree: Tree, inBag: Uint16Array, data: TrainingData, oobSum: Float64Array, oobCount: Uint32Array): void {
  for (let i = 0; i < data.rows; i++) {
    if (inBag[i] !== 0) continue;
    oobSum[i]! += predictTreeBinned(tree, data.bins, data.rows, i);
    oobCount[i]!++;
  }
}

/** The forest's value for one raw row: the mean of its trees (a probability for classification). */
export function predictRow(forest: Forest, row: ArrayLike<number>): number {
  let total = 0;
  for (const tree of forest.trees) total += predictTree(tree, row);
  return forest.trees.length > 0 ? total / forest.trees.length : 0;
}

export interface Contributions {
  /** The forest's mean value at the roots (the training-set base rate). */
  bias: number;
  /** Per feature: how much the splits on it moved this row's prediction (sums to prediction − bias). */
  contributions: Float64Array;
  prediction: number;
}

/**
 * Decomposes one prediction into per-feature contributions along each tree's decision path
 * (Saabas' method): every split moves the value from the parent's mean to the child's mean, and
 * that move is credited to the split feature. Exact: bias + Σ contributions = prediction.
 */
export function explainRow(forest: Forest, row: ArrayLike<number>): Contributions {
  const contributions = new Float64Array(forest.features);
  let bias = 0;
  let prediction = 0;
  for (const tree of forest.trees) {
    const { feature, threshold, left, right, value } = tree;
    let node = 0;
    bias += value[0]!;
    let f = feature[0]!;
    while (f >= 0) {
      const next = (row[f] as number) <= threshold[node]! ? left[node]! : right[node]!;
      contributions[f]! += value[next]! - value[node]!;
      node = next;
      f = feature[node]!;
    }
    prediction += value[node]!;
  }
  const trees = Math.max(1, forest.trees.length);
  for (let f = 0; f < contributions.length; f++) contributions[f]! /= trees;
  return { bias: bias / trees, contributions, prediction: prediction / trees };
}

/**
 * Importance per feature, normalised to sum to 1: how far its splits move the node value,
 * weighted by subtree size (a proxy for rows reached, which the flat trees do not store).
 */
export function featureImportance(forest: Forest): Float64Array {
  const importance = new Float64Array(forest.features);
  for (const tree of forest.trees) {
    const size = subtreeSizes(tree);
    for (let node = 0; node < tree.feature.length; node++) {
      const f = tree.feature[node]!;
      if (f < 0) continue;
      const l = tree.left[node]!;
      const r = tree.right[node]!;
      const gain = Math.abs(tree.value[l]! - tree.value[node]!) * size[l]! + Math.abs(tree.value[r]! - tree.value[node]!) * size[r]!;
      importance[f]! += gain;
    }
  }
  const total = importance.reduce((a, b) => a + b, 0);
  if (total > 0) for (let f = 0; f < importance.length; f++) importance[f]! /= total;
  return importance;
}

function subtreeSizes(tree: Tree): Float64Array {
  const size = new Float64Array(tree.feature.length).fill(1);
  // Children always have larger ids than their parent: one backward pass adds them up.
  for (let node = tree.feature.length - 1; node >= 0; node--) {
    if (tree.feature[node]! >= 0) size[node] = 1 + size[tree.left[node]!]! + size[tree.right[node]!]!;
  }
  return size;
}

/** Trains every tree on this thread (small data, tests). See train-forest.ts for the parallel path. */
export function trainForestSync(data: TrainingData, options: ForestOptions): Forest {
  const trees: Tree[] = [];
  for (let t = 0; t < options.trees; t++) trees.push(growTree(data, options, treeSeed(options.seed, t)).tree);
  return { trees, features: data.features };
}

/** A forest as plain JSON: each typed array as base64 of its little-endian bytes. */
export interface SerializedForest {
  features: number;
  trees: { feature: string; threshold: string; binThreshold: string; left: string; right: string; value: string }[];
}

export function serializeForest(forest: Forest): SerializedForest {
  return {
    features: forest.features,
    trees: forest.trees.map((tree) => ({
      feature: toBase64(tree.feature),
      threshold: toBase64(tree.threshold),
      binThreshold: toBase64(tree.binThreshold),
      left: toBase64(tree.left),
      right: toBase64(tree.right),
      value: toBase64(tree.value),
    })),
  };
}

export function deserializeForest(serialized: SerializedForest): Forest {
  if (!serialized || !Array.isArray(serialized.trees) || !Number.isInteger(serialized.features)) throw new Error('not a serialized forest');
  const trees = serialized.trees.map((t) => {
    const tree: Tree = {
      feature: new Int32Array(fromBase64(t.feature)),
      threshold: new Float64Array(fromBase64(t.threshold)),
      binThreshold: new Uint8Array(fromBase64(t.binThreshold)),
      left: new Int32Array(fromBase64(t.left)),
      right: new Int32Array(fromBase64(t.right)),
      value: new Float64Array(fromBase64(t.value)),
    };
    validateTree(tree, serialized.features);
    return tree;
  });
  return { trees, features: serialized.features };
}

/** Refuses a tree whose arrays disagree or whose links could loop or escape (a corrupt file). */
function validateTree(tree: Tree, features: number): void {
  const nodes = tree.feature.length;
  if (nodes === 0) throw new Error('corrupt forest: empty tree');
  for (const array of [tree.threshold, tree.binThreshold, tree.left, tree.right, tree.value]) {
    if (array.length !== nodes) throw new Error('corrupt forest: tree arrays differ in length');
  }
  for (let node = 0; node < nodes; node++) {
    const f = tree.feature[node]!;
    if (f < 0) continue;
    if (f >= features) throw new Error('corrupt forest: split on an unknown feature');
    const l = tree.left[node]!;
    const r = tree.right[node]!;
    if (l <= node || r <= node || l >= nodes || r >= nodes) throw new Error('corrupt forest: bad child link');
  }
}

function toBase64(array: ArrayBufferView): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function fromBase64(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  // Copy into a fresh, aligned ArrayBuffer (Buffer's pool offset may not be 8-byte aligned).
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}
