import { DAY_MS, FEATURE_NAMES, minPriceBetween, priceAt } from '../features';
import { rowOf, type Dataset } from '../dataset';
import { dropProbability, type LoadedModel } from '../predictor';
import { round } from './metrics';

/**
 * The buying backtest (after Etzioni et al. 2003, "To buy or not to buy", whose Hamlet captured
 * 61.8 % of the clairvoyant's savings on airfares). A buyer who wants product p at time t0 must
 * buy by t0 + H. At each of p's decision points in [t0, t0 + H] the policy says Buy now or Wait;
 * the buyer pays the price at the first Buy now, or the price in force at the deadline.
 *
 * - savings of a decision = price at t0 − price paid (negative when waiting cost money);
 * - the clairvoyant pays the lowest price in force during [t0, t0 + H];
 * - savings_captured_pct = Σ savings / Σ clairvoyant savings × 100, with every decision's
 *   savings taken in % of its price at t0, so products and currencies weigh alike;
 * - always-buy-now captures 0 % by construction; the rule baseline waits while the price is more
 *   than X % (the model's min drop) above its own 90-day low, and buys otherwise.
 */
export interface PolicyResult {
  savings_captured_pct: number;
  /** Mean savings per decision in % of the price at t0. */
  avg_savings_pct_per_decision: number;
  /** Mean savings per decision in money (mixed currencies add up as numbers: see `currencies`). */
  avg_savings_per_decision: number;
  /** Share (%) of decisions where following the policy paid more than buying at t0. */
  worse_than_buy_now_pct: number;
  /** Share (%) of decisions where the policy waited at t0. */
  waited_pct: number;
}

export interface BacktestReport {
  period: { from: string; to: string };
  horizon_days: number;
  decisions: number;
  products: number;
  currencies: string[];
  /** The model's policy (the headline figures). */
  savings_captured_pct: number;
  avg_savings_pct_per_decision: number;
  avg_savings_per_decision: number;
  worse_than_buy_now_pct: number;
  waited_pct: number;
  always_buy_now: PolicyResult;
  rule_baseline: PolicyResult & { rule: string };
  clairvoyant: { avg_savings_pct_per_decision: number; avg_savings_per_decision: number; decisions_with_savings_pct: number };
}

/** A policy at one decision point (a dataset row): true = Wait, false = Buy now. */
export type Policy = (row: number) => boolean;

export interface BacktestOptions {
  /** Decision starts from (epoch ms, inclusive); default: the model's test_from. */
  from?: number;
  /** …to (inclusive); default: the model's test_to. */
  to?: number;
}

/** Replays the decisions of the window on a dataset built with the model's horizon and threshold. */
export function runBacktest(model: LoadedModel, dataset: Dataset, options: BacktestOptions = {}): BacktestReport {
  const from = options.from ?? Date.parse(model.meta.training_window.test_from);
  const to = options.to ?? Date.parse(model.meta.training_window.test_to);
  const threshold = model.meta.options.wait_threshold;
  const probabilities = new Map<number, number>();
  const modelPolicy: Policy = (row) => {
    let p = probabilities.get(row);
    if (p === undefined) {
      p = dropProbability(model, rowOf(dataset, row));
      probabilities.set(row, p);
    }
    return p >= threshold;
  };
  const relMin90 = FEATURE_NAMES.indexOf('rel_min_90d');
  const ruleThreshold = dataset.minDropPct;
  const rulePolicy: Policy = (row) => dataset.x[row * FEATURE_NAMES.length + relMin90]! > ruleThreshold;
  const buyNowPolicy: Policy = () => false;

  const replay = replayPolicies(dataset, [modelPolicy, buyNowPolicy, rulePolicy], from, to);
  return {
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    horizon_days: dataset.horizonDays,
    decisions: replay.decisions,
    products: replay.products,
    currencies: replay.currencies,
    ...replay.results[0]!,
    always_buy_now: replay.results[1]!,
    rule_baseline: { ...replay.results[2]!, rule: `wait while the price is more than ${ruleThreshold}% above its 90-day low, otherwise buy` },
    clairvoyant: replay.clairvoyant,
  };
}

export interface Replay {
  decisions: number;
  products: number;
  currencies: string[];
  /** One result per policy, in the order given. */
  results: PolicyResult[];
  clairvoyant: BacktestReport['clairvoyant'];
}

/**
 * Replays every labelled decision start in [from, to] under each policy (see the module comment
 * for the rules and the arithmetic).
 */
export function replayPolicies(dataset: Dataset, policies: Policy[], from: number, to: number): Replay {
  const horizon = dataset.horizonDays * DAY_MS;
  const totals = policies.map(() => ({ savingsPct: 0, savings: 0, worse: 0, waited: 0 }));
  let clairvoyantPct = 0;
  let clairvoyantMoney = 0;
  let clairvoyantPositive = 0;
  let decisions = 0;
  const products = new Set<number>();
  const currencies = new Set<string>();

  for (let s = 0; s < dataset.rows; s++) {
    const t0 = dataset.t[s]!;
    if (t0 < from || t0 > to || Number.isNaN(dataset.label[s]!)) continue;
    const product = dataset.product[s]!;
    const history = dataset.histories[product]!;
    const deadline = t0 + horizon;
    const startPrice = dataset.price[s]!;
    decisions++;
    products.add(product);
    currencies.add(history.currency);
    const best = minPriceBetween(history, t0, deadline);
    clairvoyantPct += (100 * (startPrice - best)) / startPrice;
    clairvoyantMoney += startPrice - best;
    if (best < startPrice) clairvoyantPositive++;
    policies.forEach((policy, k) => {
      let paid = Number.NaN;
      let waitedAtStart = false;
      // The product's rows are contiguous and in time order: walk forward from s.
      for (let r = s; r < dataset.rows && dataset.product[r] === product && dataset.t[r]! <= deadline; r++) {
        const wait = policy(r);
        if (r === s) waitedAtStart = wait;
        if (!wait) {
          paid = dataset.price[r]!;
          break;
        }
      }
      if (Number.isNaN(paid)) paid = priceAt(history, deadline);
      const total = totals[k]!;
      total.savingsPct += (100 * (startPrice - paid)) / startPrice;
      total.savings += startPrice - paid;
      if (paid > startPrice + 1e-9) total.worse++;
      if (waitedAtStart) total.waited++;
    });
  }

  const result = (k: number): PolicyResult => {
    const total = totals[k]!;
    return {
      savings_captured_pct: clairvoyantPct > 0 ? round((100 * total.savingsPct) / clairvoyantPct, 2) : 0,
      avg_savings_pct_per_decision: decisions ? round(total.savingsPct / decisions, 4) : 0,
      avg_savings_per_decision: decisions ? round(total.savings / decisions, 4) : 0,
      worse_than_buy_now_pct: decisions ? round((100 * total.worse) / decisions, 2) : 0,
      waited_pct: decisions ? round((100 * total.waited) / decisions, 2) : 0,
    };
  };
  return {
    decisions,
    products: products.size,
    currencies: [...currencies].sort(),
    results: policies.map((_, k) => result(k)),
    clairvoyant: {
      avg_savings_pct_per_decision: decisions ? round(clairvoyantPct / decisions, 4) : 0,
      avg_savings_per_decision: decisions ? round(clairvoyantMoney / decisions, 4) : 0,
      decisions_with_savings_pct: decisions ? round((100 * clairvoyantPositive) / decisions, 2) : 0,
    },
  };
}
