/** The advice policies in words, for the product page and the Model screen (keys as in the core's PolicyInUse and backtest baselines). */
const POLICY_NAMES: Record<string, string> = {
  model: 'the model’s own policy',
  advice: 'the advice in use',
  rule_tuned: 'the price rule, tuned on validation',
  frequency_baseline: 'the product’s own drop frequency',
  rule_baseline: 'the fixed price rule',
  always_buy_now: 'always buy now',
};

export function policyName(policy: string): string {
  return POLICY_NAMES[policy] ?? policy;
}
