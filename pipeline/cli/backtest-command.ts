import { UsageError, stringFlag, workspaceOf, type Command } from '../base/command-line';
import { defaultModelPath, loadModel } from '../../model/predictor';
import { backtestWorkspace } from '../forecasting/workspace-backtest';
import { DAY_MS } from '../base/time';

/** `pricedrop backtest`: replays buying decisions on the model's test period. */
export const backtestCommand: Command = {
  name: 'backtest',
  summary: 'Replay Buy now / Wait decisions on the test period against every baseline, with CIs',
  usage: `Usage: pricedrop backtest [--workspace DIR] [--model FILE] [--from DATE] [--to DATE] [--json]

One buyer per product per calendar day of the period on which the product is tracked, who must
buy within H days (the model's horizon): it looks once a day and buys at the first Buy now, or at
the deadline. Reports, for the advice in use and for each baseline over the same decisions
(always_buy_now, rule_baseline, rule_tuned, frequency_baseline): savings_captured_pct (money-
weighted share of a clairvoyant's savings; Etzioni et al. 2003), savings_captured_pct_by_decision,
worse_than_buy_now_pct, loss_when_worse_mean_pct / _p95_pct, waited_pct; ci95 (bootstrap over
products) for the advice and for advice minus the best baseline; segments (history length, past
drop frequency, price band); and forecast quality (auc, brier, brier_skill, log_loss, ece, the
reliability table).

  --model FILE   model file (default DIR/models/current.json)
  --from DATE    first decision day (default: the model's test period start)
  --to DATE      last decision day (default: the model's test period end)
  --json         one JSON object on stdout`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const model = loadModel(stringFlag(args, 'model') ?? defaultModelPath(workspace));
    const parseDay = (name: string): number | undefined => {
      const raw = args.flags.get(name);
      if (raw === undefined) return undefined;
      const value = Date.parse(`${raw.slice(0, 10)}T00:00:00Z`);
      if (Number.isNaN(value)) throw new UsageError(`--${name} must be a date (YYYY-MM-DD), got "${raw}"`);
      return value / DAY_MS;
    };
    const fromDay = parseDay('from');
    const toDay = parseDay('to');
    if (fromDay !== undefined && fromDay * DAY_MS < Date.parse(`${model.meta.training_window.test_from}T00:00:00Z`)) {
      io.log(`warning: --from is before the model's test period (${model.meta.training_window.test_from}): the model or its policy saw those days, so savings will look better than they are`);
    }
    const report = backtestWorkspace({ workspace, model, fromDay, toDay, onProgress: (done, total) => io.progress('reading and scoring histories', done, total) });
    if (args.switches.has('json')) {
      io.json(report);
      return;
    }
    const line = (name: string, r: { savings_captured_pct: number; worse_than_buy_now_pct: number; waited_pct: number }) =>
      io.out(`${name.padEnd(20)} ${String(r.savings_captured_pct).padStart(6)} %   worse ${String(r.worse_than_buy_now_pct).padStart(5)} %   waited ${String(r.waited_pct).padStart(5)} %`);
    io.out(`${report.decisions} decisions on ${report.products} products, ${report.period.from} to ${report.period.to}, horizon ${report.horizon_days} days`);
    io.out(`advice in use: ${report.policy} (${report.policy_reason})`);
    line('advice', report);
    line('model policy', report.model);
    line('rule_baseline', report.rule_baseline);
    line('rule_tuned', report.rule_tuned);
    line('frequency_baseline', report.frequency_baseline);
    line('always_buy_now', report.always_buy_now);
    io.out(`95 % CI: advice [${report.ci95.savings_captured_pct.join(', ')}], advice − ${report.ci95.best_baseline} [${report.ci95.model_minus_best_baseline.join(', ')}]`);
    io.out(`forecast: AUC ${report.forecast.auc}, Brier skill ${report.forecast.brier_skill}, ECE ${report.forecast.ece}`);
  },
};
