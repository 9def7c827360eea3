/**
 * Buy now or Wait, by expected savings rather than a probability threshold alone.
 *
 * The forests give, for a product on a day: p, the calibrated chance of a drop of at least X %
 * within H days; E[drop | drop], the expected depth of that drop; E[change | no drop], where the
 * price stands at the deadline when no drop comes (a rise is a cost); and q, the chance that
 * waiting ends worse than buying today (no drop comes, and the deadline price is above today's).
 *
 * With k days left before the buyer's deadline, the chance of the drop within those days is
 * p_k = 1 − (1 − p)^(k / H) (a constant hazard over the horizon), and waiting is worth
 *   gain = p_k · E[drop | drop] − (1 − p_k) · E[change | no drop]   (in % of today's price).
 * The advice is Wait when q ≤ guard and either p_k ≥ 0.5 (a drop is more likely than not) or
 * gain > cost; otherwise Buy now. `cost` (a waiting cost, % of the price) and `guard` (the largest
 * chance of ending worse the buyer accepts, at most 0.5) are chosen on the validation slice
 * (evaluation/period-evaluation.ts).
 *
 * So the three fields of a prediction never contradict: `will_drop` is true exactly when the
 * advice is Wait, and `confidence` is the chance the advice is right: for Wait 1 − q (at least
 * 0.5, as q ≤ guard ≤ 0.5); for Buy now max(1 − p_k, q), the chance no drop comes or waiting would
 * end worse, floored at 0.5 where the guard declined a likely drop because waiting was too risky
 * (a coin flip either way, which the risk level says: High).
 */
export interface ModelScores {
  /** Calibrated probability of a drop ≥ X % within H days. */
  p: number;
  /** E[deepest fall | drop], % of today's price. */
  dropPct: number;
  /** E[deadline change | no drop], % of today's price (positive: a rise). */
  changePct: number;
  /** Chance waiting ends worse: no drop, and the deadline price above today's. */
  worse: number;
}

export interface PolicyParams {
  cost_pct: number;
  guard: number;
}

export interface Advice {
  wait: boolean;
  /** Chance of the drop within the days left. */
  pk: number;
  /** Expected savings of waiting, % of today's price. */
  gainPct: number;
  /** The chance the advice is right (see the module comment). */
  confidence: number;
}

export function dropWithin(p: number, daysLeft: number, horizonDays: number): number {
  if (daysLeft >= horizonDays) return p;
  if (daysLeft <= 0) return 0;
  return 1 - Math.pow(1 - Math.min(p, 1 - 1e-9), daysLeft / horizonDays);
}

export function modelAdvice(scores: ModelScores, daysLeft: number, horizonDays: number, params: PolicyParams): Advice {
  const pk = dropWithin(scores.p, daysLeft, horizonDays);
  const gainPct = pk * scores.dropPct - (1 - pk) * scores.changePct;
  const wait = scores.worse <= params.guard && (pk >= 0.5 || gainPct > params.cost_pct);
  return { wait, pk, gainPct, confidence: confidenceOf(wait, pk, scores.worse) };
}

/** The chance an advice is right: Wait ends no worse; Buy now misses no drop or dodges a rise. */
export function confidenceOf(wait: boolean, pk: number, worse: number): number {
  return wait ? 1 - worse : Math.max(1 - pk, worse, 0.5);
}

/** Risk that following the advice goes wrong, in words. */
export function riskLevel(confidence: number): 'Low' | 'Medium' | 'High' {
  if (confidence >= 0.8) return 'Low';
  if (confidence >= 0.65) return 'Medium';
  return 'High';
}

/** The grid `cost_pct × guard` searched on validation. */
export const POLICY_COSTS = [-1, 0, 0.5, 1, 2, 3, 5, 8];
export const POLICY_GUARDS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5];
