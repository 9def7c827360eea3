/**
 * The shapes of what the forecaster reports: `pricedrop backtest --json`, the `backtest` and
 * `policy` parts of `pricedrop train --json` and of the model file, and the Model screen. One
 * definition, read by the CLI, the app and the renderer (types only: no code here).
 */

/** Which advice the product gives: the model's own policy, or a baseline that beat it on validation. */
export type PolicyInUse = 'model' | 'rule_tuned' | 'frequency_baseline';

/**
 * One policy replayed over the decisions of a period (see evaluation/buyer-backtest.ts for the
 * rules). Percentages are 0–100.
 */
export interface PolicyResult {
  /** Money-weighted: total saved / total the clairvoyant saved, per currency, combined by share of decisions. */
  savings_captured_pct: number;
  /** Percent-weighted: Σ savings in % of the start price / Σ the clairvoyant's. */
  savings_captured_pct_by_decision: number;
  /** Share of decisions where following the policy paid more than buying at once. */
  worse_than_buy_now_pct: number;
  /** Among those, the mean and 95th percentile of the extra paid, in % of the start price (0 when none). */
  loss_when_worse_mean_pct: number;
  loss_when_worse_p95_pct: number;
  /** Share of decisions where the policy said Wait on the first day. */
  waited_pct: number;
  decisions: number;
  products: number;
}

export interface BaselineResult extends PolicyResult {
  /** The rule in words, with its parameters. */
  rule: string;
}

export interface ReliabilityBin {
  from: number;
  to: number;
  count: number;
  mean_p: number;
  observed_rate: number;
}

export interface ForecastQuality {
  auc: number;
  brier: number;
  /** 1 − brier / brier of the training base rate. */
  brier_skill: number;
  log_loss: number;
  /** Expected calibration error over the reliability bins (count-weighted |mean_p − observed|). */
  ece: number;
  reliability: ReliabilityBin[];
  /** Decision days scored, and the share that dropped. */
  rows: number;
  positives_rate: number;
}

export interface SegmentRow {
  segment: string;
  decisions: number;
  products: number;
  /** savings_captured_pct of the advice in use and of each baseline in this segment. */
  advice: number;
  always_buy_now: number;
  rule_baseline: number;
  rule_tuned: number;
  frequency_baseline: number;
}

export interface SliceInfo {
  from: string;
  to: string;
  days: number;
  products: number;
  /** Decision days (product × calendar day) in the slice. */
  decisions: number;
}

export interface BacktestReport extends PolicyResult {
  period: { from: string; to: string };
  horizon_days: number;
  min_drop_pct: number;
  currencies: string[];
  /** The advice in use (the top-level figures are its), and why it was chosen on validation. */
  policy: PolicyInUse;
  policy_reason: string;
  /** The model's own policy, whether or not it is in use. */
  model: PolicyResult;
  always_buy_now: PolicyResult;
  rule_baseline: BaselineResult;
  rule_tuned: BaselineResult;
  frequency_baseline: BaselineResult;
  /** The clairvoyant's mean saving per decision, in % of the start price. */
  clairvoyant_avg_savings_pct: number;
  /** Bootstrap over products (95 %): the advice in use, each baseline, and advice − best baseline. */
  ci95: {
    savings_captured_pct: [number, number];
    model_minus_best_baseline: [number, number];
    best_baseline: 'always_buy_now' | 'rule_baseline' | 'rule_tuned' | 'frequency_baseline';
    baselines: Record<'always_buy_now' | 'rule_baseline' | 'rule_tuned' | 'frequency_baseline', [number, number]>;
  };
  segments: { history_length: SegmentRow[]; past_drop_frequency: SegmentRow[]; price_band: SegmentRow[] };
  forecast: ForecastQuality;
}
