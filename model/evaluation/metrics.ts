/**
 * Classification metrics for probabilities against 0/1 labels, defined as scikit-learn defines
 * them so figures compare directly: ROC AUC (ties get half credit), PR-AUC as average precision,
 * the Brier score, a reliability (calibration) table, precision/recall at a threshold.
 */

/** Area under the ROC curve; NaN when only one class is present. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = sortedOrder(scores);
  // Mann–Whitney U with average ranks for ties.
  let positives = 0;
  let rankSumPositives = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const score = scores[order[i]!] as number;
    while (j + 1 < n && (scores[order[j + 1]!] as number) === score) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if ((labels[order[k]!] as number) > 0.5) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average precision (scikit-learn's average_precision_score): Σ (R_k − R_{k−1}) P_k over thresholds. */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = sortedOrder(scores).reverse();
  let positives = 0;
  for (let i = 0; i < n; i++) if ((labels[i] as number) > 0.5) positives++;
  if (positives === 0) return Number.NaN;
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const score = scores[order[i]!] as number;
    while (i < n && (scores[order[i]!] as number) === score) {
      if ((labels[order[i]!] as number) > 0.5) truePositives++;
      seen++;
      i++;
    }
    const recall = truePositives / positives;
    ap += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
  }
  return ap;
}

/** Mean squared error of the probabilities. */
export function brierScore(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = (probabilities[i] as number) - ((labels[i] as number) > 0.5 ? 1 : 0);
    total += d * d;
  }
  return labels.length > 0 ? total / labels.length : Number.NaN;
}

export interface CalibrationBin {
  /** The bin's probability range [from, to). */
  from: number;
  to: number;
  count: number;
  /** Mean predicted probability in the bin. */
  predicted: number;
  /** Observed share of positives in the bin. */
  observed: number;
}

/** Reliability table over equal-width probability bins (empty bins are left out). */
export function calibrationTable(labels: ArrayLike<number>, probabilities: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const count = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const observed = new Array<number>(bins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]!++;
    predicted[b]! += p;
    if ((labels[i] as number) > 0.5) observed[b]!++;
  }
  const table: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    table.push({ from: b / bins, to: (b + 1) / bins, count: count[b]!, predicted: round(predicted[b]! / count[b]!, 4), observed: round(observed[b]! / count[b]!, 4) });
  }
  return table;
}

export interface ThresholdReport {
  threshold: number;
  precision: number;
  recall: number;
  /** Rows predicted positive. */
  predictedPositive: number;
}

export function precisionRecallAt(labels: ArrayLike<number>, probabilities: ArrayLike<number>, threshold: number): ThresholdReport {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const positive = (labels[i] as number) > 0.5;
    const predicted = (probabilities[i] as number) >= threshold;
    if (predicted && positive) tp++;
    else if (predicted) fp++;
    else if (positive) fn++;
  }
  return { threshold, precision: tp + fp > 0 ? tp / (tp + fp) : 0, recall: tp + fn > 0 ? tp / (tp + fn) : 0, predictedPositive: tp + fp };
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` values, linearly interpolated (numpy's default); NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = q * (n - 1);
  const below = Math.floor(position);
  const above = Math.min(n - 1, below + 1);
  const low = sorted[below] as number;
  return low + (position - below) * ((sorted[above] as number) - low);
}

export function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function sortedOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const values = Float64Array.from(scores as ArrayLike<number>);
  order.sort((a, b) => values[a]! - values[b]!);
  return order;
}
