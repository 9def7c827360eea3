import { describe, expect, it } from 'vitest';
import { buildBacktestReport, type BacktestReportInput } from './backtest-report';
import { frequencyPolicy, rulePolicy } from './baseline-policies';
import { decisionsOf, evaluatePolicy } from './buyer-backtest';
import { forecastQuality } from './forecast-quality';
import { dropLabelsOf, gridFixture } from './grid-fixtures';

const FROM = 20_450; // 2025-12-28
const TO = 20_550; // 2026-04-07
const H = 14;

const products = gridFixture({ products: 30, days: 600, seed: 4, currency: (p) => (p % 2 === 0 ? 'EUR' : 'JPY') });
// A product first seen 40 days before the test period.
const newcomer = gridFixture({ products: 1, days: 600, seed: 9 })[0]!;
newcomer.prices.fill(Number.NaN, 0, FROM - 40 - newcomer.firstDay);
products.push(newcomer);

const model = rulePolicy(products, 3, 30); // a stand-in for the model's policy
const input: BacktestReportInput = {
  products,
  horizonDays: H,
  minDropPct: 5,
  fromDay: FROM,
  toDay: TO,
  policy: 'model',
  policyReason: 'model captured more on validation',
  model,
  ruleTuned: { policy: rulePolicy(products, 7.5, 60), rule: 'wait while the price is more than 7.5 % above its 60-day low, otherwise buy' },
  frequency: { policy: frequencyPolicy(products, dropLabelsOf(products, H, 5), H, 0.3), rule: 'frequency rule' },
  forecast: forecastQuality(Float64Array.from([0.2, 0.7]), Float64Array.from([0, 1]), 0.4),
  bootstrap: { samples: 200, seed: 3 },
};

describe('the backtest report', () => {
  const report = buildBacktestReport(input);
  const total = decisionsOf(products, H, FROM, TO).day.length;

  it('puts the advice in use at the top and every baseline over the same decisions', () => {
    const modelResult = evaluatePolicy(products, model, H, FROM, TO);
    expect(report.model).toEqual(modelResult);
    expect(report).toMatchObject({ ...modelResult, period: { from: '2025-12-28', to: '2026-04-07' }, horizon_days: 14, min_drop_pct: 5, currencies: ['EUR', 'JPY'], policy: 'model' });
    expect(report.decisions).toBe(total);
    expect(report.rule_baseline).toEqual({ ...evaluatePolicy(products, rulePolicy(products, 5, 90), H, FROM, TO), rule: 'wait while the price is more than 5 % above its 90-day low, otherwise buy' });
    expect(report.always_buy_now.savings_captured_pct).toBe(0);
    expect(report.rule_tuned.rule).toBe(input.ruleTuned.rule);
    expect(report.clairvoyant_avg_savings_pct).toBeGreaterThan(0);
    expect(report.forecast.auc).toBe(1);

    const tunedInUse = buildBacktestReport({ ...input, policy: 'rule_tuned' });
    const { rule: _rule, ...tunedFigures } = tunedInUse.rule_tuned;
    expect(tunedInUse).toMatchObject(tunedFigures);
    expect(tunedInUse.model).toEqual(modelResult);
  });

  it('gives CIs that contain their estimates, against the best baseline by point estimate', () => {
    const { ci95 } = report;
    const baselines = { always_buy_now: report.always_buy_now, rule_baseline: report.rule_baseline, rule_tuned: report.rule_tuned, frequency_baseline: report.frequency_baseline };
    const best = Math.max(...Object.values(baselines).map((b) => b.savings_captured_pct));
    expect(baselines[ci95.best_baseline].savings_captured_pct).toBe(best);
    expect(ci95.savings_captured_pct[0]).toBeLessThanOrEqual(report.savings_captured_pct);
    expect(ci95.savings_captured_pct[1]).toBeGreaterThanOrEqual(report.savings_captured_pct);
    for (const [name, [low, high]] of Object.entries(ci95.baselines)) {
      const estimate = baselines[name as keyof typeof baselines].savings_captured_pct;
      expect(low).toBeLessThanOrEqual(estimate);
      expect(high).toBeGreaterThanOrEqual(estimate);
    }
    const difference = report.savings_captured_pct - best;
    expect(ci95.model_minus_best_baseline[0]).toBeLessThanOrEqual(difference + 0.1);
    expect(ci95.model_minus_best_baseline[1]).toBeGreaterThanOrEqual(difference - 0.1);
  });

  it('splits the decisions into segments that add up, the newcomer among the short histories', () => {
    const { history_length, past_drop_frequency, price_band } = report.segments;
    for (const rows of [history_length, past_drop_frequency, price_band]) expect(rows.reduce((sum, row) => sum + row.decisions, 0)).toBe(total);
    // The newcomer's first known day is 40 or a few more days before the period; its decisions count as short until 90 days after it.
    const firstKnown = newcomer.firstDay + newcomer.prices.findIndex((price) => !Number.isNaN(price));
    const newcomerDays = Array.from(decisionsOf([newcomer], H, FROM, TO).day);
    expect(history_length).toMatchObject([
      { segment: 'tracked < 90 days', decisions: newcomerDays.filter((day) => day - firstKnown < 90).length, products: 1 },
      { segment: 'tracked 90–365 days', decisions: newcomerDays.filter((day) => day - firstKnown >= 90).length, products: 1 },
      { segment: 'tracked > 365 days', products: 30 },
    ]);
    expect(price_band.map((row) => row.segment)).toEqual(['low price (bottom third)', 'mid price (middle third)', 'high price (top third)']);
    for (const row of price_band) expect(row.decisions).toBeGreaterThan(total / 4);
    for (const row of [...history_length, ...past_drop_frequency, ...price_band]) expect(row.always_buy_now).toBe(0);
    // 450 days with a sale starting on about 4 % of them: every long-tracked product has 3+ past drops.
    expect(past_drop_frequency.find((row) => row.segment === '3+ past drops')!.products).toBeGreaterThanOrEqual(30);
  });
});
