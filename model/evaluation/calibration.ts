/**
 * Isotonic calibration (pool-adjacent-violators): maps a forest's raw vote share to a probability
 * that matches observed frequencies. Fitted on out-of-bag predictions of the training rows, so it
 * needs no extra hold-out and never sees the test period.
 */
export interface IsotonicCalibration {
  /** Ascending raw scores (block means)… */
  x: number[];
  /** …and the calibrated probability at each; linear in between, flat beyond the ends. */
  y: number[];
}

/** Fits a non-decreasing map from score to label frequency. Rows with a NaN score are skipped. */
export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>): IsotonicCalibration {
  const pairs: [number, number][] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!Number.isNaN(s)) pairs.push([s, (labels[i] as number) > 0.5 ? 1 : 0]);
  }
  if (pairs.length === 0) return { x: [0, 1], y: [0, 1] };
  pairs.sort((a, b) => a[0] - b[0]);
  // Blocks of (sum of x, sum of y, weight); merge while a block's mean exceeds the next one's.
  const sumX: number[] = [];
  const sumY: number[] = [];
  const weight: number[] = [];
  for (const [s, label] of pairs) {
    sumX.push(s);
    sumY.push(label);
    weight.push(1);
    while (sumY.length > 1) {
      const last = sumY.length - 1;
      if (sumY[last - 1]! / weight[last - 1]! <= sumY[last]! / weight[last]!) break;
      sumX[last - 1]! += sumX[last]!;
      sumY[last - 1]! += sumY[last]!;
      weight[last - 1]! += weight[last]!;
      sumX.pop();
      sumY.pop();
      weight.pop();
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let b = 0; b < weight.length; b++) {
    x.push(round6(sumX[b]! / weight[b]!));
    y.push(round6(sumY[b]! / weight[b]!));
  }
  return { x, y };
}

/** The calibrated probability of a raw score. */
export function applyCalibration(calibration: IsotonicCalibration, score: number): number {
  const { x, y } = calibration;
  if (x.length === 0) return score;
  if (score <= x[0]!) return y[0]!;
  const last = x.length - 1;
  if (score >= x[last]!) return y[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const span = x[hi]! - x[lo]!;
  return span > 0 ? y[lo]! + ((y[hi]! - y[lo]!) * (score - x[lo]!)) / span : y[lo]!;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
