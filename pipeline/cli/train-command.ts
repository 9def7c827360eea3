import { numberFlag, stringFlag, workspaceOf, type Command } from '../base/command-line';
import type { TrainPhase } from '../../model/training';
import { trainModel } from '../forecasting/workspace-training';

/** `pricedrop train`: trains the forecaster on the workspace's cache and writes the model file. */
export const trainCommand: Command = {
  name: 'train',
  summary: 'Train the Buy now / Wait forecaster (random forests) on the cache; report the backtest against baselines',
  usage: `Usage: pricedrop train [--workspace DIR] [--horizon-days H] [--min-drop-pct X] [--out FILE] [options] [--json]

A buyer must buy within H days. Target: does the price fall at least X % below today's within
them? Time order: train | gap H | validation | gap H | test (validation and test 20 % each).
Four forests learn on the training slice; on validation the drop probabilities are calibrated
and the advice policy is chosen (the model's expected savings, or a baseline when the model does
not beat it there: the report says which and why); the test period is read once, for the report.
Writes the model (default DIR/models/current.json).

Options:
  --horizon-days H      horizon in days (default 14)
  --min-drop-pct X      minimum fall in % that counts as a drop (default 5)
  --out FILE            model file (default DIR/models/current.json)
  --trees N             trees in the drop classifier (default 100; the other three get half)
  --max-depth D         default 8
  --min-samples-leaf N  default 50
  --max-features F      features tried per split: "sqrt" (default), a fraction (<= 1) or a count
  --max-training-rows N an even sample beyond this many training decisions (default 250000)
  --seed N              default 1
  --threads N           worker threads (default: all cores)
  --json                print the report as one JSON object: policy, policy_reason, slices,
                        positives_rate, backtest (the test period against every baseline), ...`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const threads = args.flags.get('threads');
    const labels: Record<TrainPhase, string> = {
      reading: 'reading histories',
      features: 'computing features',
      classifier: 'training drop classifier',
      'drop size': 'training drop-size forest',
      'deadline change': 'training deadline-change forest',
      worse: 'training worse-at-deadline forest',
      validation: 'calibrating and choosing the policy on validation',
      test: 'backtesting the test period',
      saving: 'saving model',
    };
    const report = await trainModel(
      {
        workspace,
        out: stringFlag(args, 'out'),
        horizonDays: numberFlag(args, 'horizon-days', 14, { min: 1, max: 365 }),
        minDropPct: numberFlag(args, 'min-drop-pct', 5, { min: 0.01, max: 99 }),
        trees: numberFlag(args, 'trees', 100, { min: 1, max: 2000, integer: true }),
        maxDepth: numberFlag(args, 'max-depth', 8, { min: 1, max: 40, integer: true }),
        minSamplesLeaf: numberFlag(args, 'min-samples-leaf', 50, { min: 1, integer: true }),
        maxFeatures: stringFlag(args, 'max-features', 'sqrt') === 'sqrt' ? 'sqrt' : numberFlag(args, 'max-features', 1, { min: 0.01 }),
        maxTrainingRows: numberFlag(args, 'max-training-rows', 250_000, { min: 1000, integer: true }),
        seed: numberFlag(args, 'seed', 1, { integer: true }),
        threads: threads === undefined ? undefined : numberFlag(args, 'threads', 2, { min: 1, max: 64, integer: true }),
      },
      { onProgress: ({ phase, done, total }) => io.progress(labels[phase], done, total) },
    );
    if (args.switches.has('json')) {
      io.json(report);
      return;
    }
    const { slices, backtest: b } = report;
    io.out(`model ${report.model_version} written to ${report.model_file}`);
    io.out(`slices: train ${slices.train.from}..${slices.train.to} (${slices.train.decisions} decisions), validation ${slices.validation.from}..${slices.validation.to} (${slices.validation.decisions}), test ${slices.test.from}..${slices.test.to} (${slices.test.decisions})`);
    io.out(`advice in use: ${report.policy} (${report.policy_reason})`);
    io.out(`test period: advice captures ${b.savings_captured_pct}% of a clairvoyant's savings [${b.ci95.savings_captured_pct.join(', ')}], worse than buying at once in ${b.worse_than_buy_now_pct}%`);
    io.out(`baselines: rule ${b.rule_baseline.savings_captured_pct}%, tuned rule ${b.rule_tuned.savings_captured_pct}%, frequency ${b.frequency_baseline.savings_captured_pct}%, always buy now ${b.always_buy_now.savings_captured_pct}%`);
    io.out(`forecast: AUC ${b.forecast.auc}, Brier skill ${b.forecast.brier_skill}, ECE ${b.forecast.ece}`);
  },
};
