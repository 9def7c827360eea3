import { UsageError, stringFlag, workspaceOf, type Command } from './command';
import { defaultModelPath, loadModel } from '../../model/predictor';
import { backtestWorkspace } from '../../model/workspace-backtest';

/** `pricedrop backtest`: replays buying decisions on the model's test period. */
export const backtestCommand: Command = {
  name: 'backtest',
  summary: 'Replay Buy now / Wait decisions on the test period: savings captured vs a clairvoyant',
  usage: `Usage: pricedrop backtest [--workspace DIR] [--model FILE] [--from DATE] [--to DATE] [--json]

A buyer must buy within H days (the model's horizon). Following the advice, they wait while it
says Wait and buy at the first Buy now, or at the deadline. Reports savings_captured_pct (savings
as a % of what a clairvoyant buyer saves; Etzioni et al. 2003), the same for always-buy-now and
for a simple rule, the share of decisions where following the advice cost more than buying at
once (worse_than_buy_now_pct) and the average savings per decision.

  --model FILE   model file (default DIR/models/current.json)
  --from DATE    first decision day (default: the model's test period start)
  --to DATE      last decision day (default: the model's test period end)
  --json         one JSON object on stdout`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const model = loadModel(stringFlag(args, 'model') ?? defaultModelPath(workspace));
    const parseDate = (name: string): number | undefined => {
      const raw = args.flags.get(name);
      if (raw === undefined) return undefined;
      const value = Date.parse(raw);
      if (Number.isNaN(value)) throw new UsageError(`--${name} must be a date (YYYY-MM-DD), got "${raw}"`);
      return value;
    };
    const from = parseDate('from');
    const to = parseDate('to');
    if (from !== undefined && from < Date.parse(model.meta.training_window.train_to)) {
      io.log(`warning: --from is inside the model's training period (before ${model.meta.training_window.train_to}): savings will look better than they are`);
    }
    const report = backtestWorkspace({ workspace, model, from, to: to === undefined ? undefined : to + 86_399_999, onProgress: (done, total) => io.progress('reading histories', done, total) });
    if (args.switches.has('json')) {
      io.json(report);
      return;
    }
    io.out(`${report.decisions} decisions on ${report.products} products, ${report.period.from.slice(0, 10)} to ${report.period.to.slice(0, 10)}, horizon ${report.horizon_days} days`);
    io.out(`model:         ${report.savings_captured_pct}% of clairvoyant savings; worse than buying at once in ${report.worse_than_buy_now_pct}% of decisions`);
    io.out(`rule baseline: ${report.rule_baseline.savings_captured_pct}% (${report.rule_baseline.rule})`);
    io.out(`always buy now: ${report.always_buy_now.savings_captured_pct}%`);
  },
};
