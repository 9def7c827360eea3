import { frequencyPolicy, frequencyText, rulePolicy, ruleText } from './baseline-policies';
import { alwaysBuyNow, decisionsOf, measureReplay, replayPolicy, roundResult, type GridProduct, type WaitPolicy } from './buyer-backtest';
import { type PolicyResult } from './report-types';

/**
 * Choosing a policy on the validation slice: the highest savings captured among the candidates
 * whose worse-than-buy-now share stays within a cap in EACH half of the slice, so the choice
 * still holds when the share of drops shifts between periods (sale seasons do that).
 */

export const DEFAULT_WORSE_CAP_PCT = 3;
export const RULE_THRESHOLDS_PCT = [1, 2, 3, 5, 7.5, 10, 15, 20];
export const RULE_WINDOWS_DAYS = [30, 60, 90, 180, 365];
export const FREQUENCY_LEVELS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface PolicyCandidate<P = unknown> {
  /** Named in the reason as given ("model", "rule_tuned", …). */
  name: string;
  policy: WaitPolicy;
  params?: P;
}

export interface CandidateResult<P = unknown> {
  name: string;
  params?: P;
  /** Over the whole validation slice, and over its first and second half (rounded). */
  validation: PolicyResult;
  halves: [PolicyResult, PolicyResult];
  /** worse_than_buy_now_pct ≤ cap in both halves. */
  eligible: boolean;
}

export interface PolicyChoice<P = unknown> {
  winner: PolicyCandidate<P>;
  winnerResult: CandidateResult<P>;
  /** Every candidate, in the order given. */
  results: CandidateResult<P>[];
  /** One sentence for the report's policy_reason. */
  reason: string;
}

/**
 * The candidate with the highest validation savings_captured_pct among those within `capPct`
 * worse-than-buy-now in each half of [valFrom, valTo] (epoch days); ties go to the earlier
 * candidate. When none is within the cap, the one whose worse half comes closest to it.
 */
export function choosePolicy<P>(candidates: readonly PolicyCandidate<P>[], products: readonly GridProduct[], horizonDays: number, valFrom: number, valTo: number, capPct = DEFAULT_WORSE_CAP_PCT): PolicyChoice<P> {
  if (candidates.length === 0) throw new Error('choosePolicy needs at least one candidate');
  const set = decisionsOf(products, horizonDays, valFrom, valTo);
  const middle = Math.floor((valFrom + valTo) / 2);
  const first: number[] = [];
  const second: number[] = [];
  set.day.forEach((day, i) => (day <= middle ? first : second).push(i));

  const measured = candidates.map((candidate) => {
    const replay = replayPolicy(products, set, candidate.policy);
    const whole = measureReplay(set, replay);
    const halves: [PolicyResult, PolicyResult] = [measureReplay(set, replay, first), measureReplay(set, replay, second)];
    const worstHalf = Math.max(halves[0].worse_than_buy_now_pct, halves[1].worse_than_buy_now_pct);
    return { candidate, whole, halves, worstHalf, eligible: worstHalf <= capPct };
  });
  const better = (a: (typeof measured)[number], b: (typeof measured)[number]): boolean => (a.eligible ? a.whole.savings_captured_pct > b.whole.savings_captured_pct : a.worstHalf < b.worstHalf);
  const pool = measured.some((m) => m.eligible) ? measured.filter((m) => m.eligible) : measured;
  const best = pool.reduce((a, b) => (better(b, a) ? b : a));

  const results = measured.map((m): CandidateResult<P> => ({
    name: m.candidate.name,
    ...(m.candidate.params !== undefined ? { params: m.candidate.params } : {}),
    validation: roundResult(m.whole),
    halves: [roundResult(m.halves[0]), roundResult(m.halves[1])],
    eligible: m.eligible,
  }));
  const winnerResult = results[measured.indexOf(best)]!;
  const rivals = measured.filter((m) => m.eligible && m.candidate.name !== best.candidate.name);
  const rival = rivals.length > 0 ? rivals.reduce((a, b) => (better(b, a) ? b : a)) : undefined;
  return { winner: best.candidate, winnerResult, results, reason: reasonFor(winnerResult, rival && results[measured.indexOf(rival)]!, capPct) };
}

function reasonFor(winner: CandidateResult, rival: CandidateResult | undefined, capPct: number): string {
  const captured = `${winner.validation.savings_captured_pct} %`;
  const worse = `${winner.validation.worse_than_buy_now_pct} % worse than buying at once`;
  if (!winner.eligible) {
    const worstHalf = Math.max(winner.halves[0].worse_than_buy_now_pct, winner.halves[1].worse_than_buy_now_pct);
    return `no candidate kept worse-than-buy-now within ${capPct} % in both halves of validation; ${winner.name} came closest (${worstHalf} % in its worse half) and captured ${captured}`;
  }
  if (!rival) return `${winner.name} captured ${captured} on validation, with ${worse}; no other candidate stayed within ${capPct} % worse in both halves`;
  return `${winner.name} captured ${captured} on validation against ${rival.name}'s ${rival.validation.savings_captured_pct} %, with ${worse}`;
}

/** A baseline tuned on validation: its parameters (null = buy at once, nothing passed), its rule in words, and its policy over the same grid. */
export interface TunedBaseline<P> {
  params: P | null;
  rule: string;
  policy: WaitPolicy;
  validation: PolicyResult;
}

export interface TuneOptions {
  /** Highest worse_than_buy_now_pct allowed in each half of validation (default 3). */
  capPct?: number;
}

/** The rule "wait while more than T % above the W-day low", T and W chosen on validation. */
export function tuneRule(products: readonly GridProduct[], horizonDays: number, valFrom: number, valTo: number, options: TuneOptions = {}): TunedBaseline<{ thresholdPct: number; windowDays: number }> {
  const grid = RULE_THRESHOLDS_PCT.flatMap((thresholdPct) => RULE_WINDOWS_DAYS.map((windowDays) => ({ thresholdPct, windowDays })));
  const candidates = grid.map((params) => ({ name: 'rule_tuned', policy: rulePolicy(products, params.thresholdPct, params.windowDays), params }));
  return tuned(candidates, products, horizonDays, valFrom, valTo, options, (p) => ruleText(p.thresholdPct, p.windowDays), 'no threshold and window');
}

/** The frequency baseline (see frequencyPolicy; `labels` per product), its level chosen on validation. */
export function tuneFrequency(products: readonly GridProduct[], labels: readonly ArrayLike<number>[], horizonDays: number, minDropPct: number, valFrom: number, valTo: number, options: TuneOptions = {}): TunedBaseline<{ level: number }> {
  const candidates = FREQUENCY_LEVELS.map((level) => ({ name: 'frequency_baseline', policy: frequencyPolicy(products, labels, horizonDays, level), params: { level } }));
  return tuned(candidates, products, horizonDays, valFrom, valTo, options, (p) => frequencyText(horizonDays, minDropPct, p.level), 'no level');
}

/**
 * Buying at once is a candidate too (never worse, captures 0 %): it wins when no parameter set
 * passes the cap in both halves or captures anything, and the rule text says so.
 */
function tuned<P>(candidates: PolicyCandidate<P>[], products: readonly GridProduct[], horizonDays: number, valFrom: number, valTo: number, options: TuneOptions, text: (params: P) => string, nothing: string): TunedBaseline<P> {
  const capPct = options.capPct ?? DEFAULT_WORSE_CAP_PCT;
  const buyNow: PolicyCandidate<P> = { name: 'always_buy_now', policy: alwaysBuyNow };
  const choice = choosePolicy([buyNow, ...candidates], products, horizonDays, valFrom, valTo, capPct);
  const params = choice.winner.params ?? null;
  return {
    params,
    rule: params !== null ? text(params) : `buy at once: ${nothing} captured savings on validation within ${capPct} % worse than buying at once in each half`,
    policy: choice.winner.policy,
    validation: choice.winnerResult.validation,
  };
}
