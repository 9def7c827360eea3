import { numberFlag, stringFlag, workspaceOf, type Command } from './command';
import { trainModel, type TrainPhase } from '../../model/training';

/** `pricedrop train`: trains the forecaster on the workspace's cache and writes the model file. */
export const trainCommand: Command = {
  name: 'train',
  summary: 'Train the price-drop forecaster (random forest) on the cache; report test metrics',
  usage: `Usage: pricedrop train [--workspace DIR] [--horizon-days H] [--min-drop-pct X] [--out FILE] [options] [--json]

Target: does the price fall at least X % below today's within the next H days? Trains on the past,
tests on the most recent period (the last quarter of the labelled span), with a gap of H days
between them so no label leaks, and writes the model (default DIR/models/current.json).

Options:
  --horizon-days H      horizon in days (default 14)
  --min-drop-pct X      minimum fall in % that counts as a drop (default 5)
  --out FILE            model file (default DIR/models/current.json)
  --threshold P         will_drop from this calibrated drop probability on (default 0.5)
  --wait-threshold P    recommend Wait from this probability on (default: tuned by replaying
                        the training period with out-of-time scores: the one that saved most)
  --trees N             trees in the forest (default 100)
  --max-depth D         default 8
  --min-samples-leaf N  default 50
  --max-features F      features tried per split: "sqrt" (default), a fraction (<= 1) or a count
  --seed N              default 1
  --threads N           worker threads (default: all cores)
  --json                print the report as one JSON object: rows, positives_rate, auc, pr_auc,
                        brier, calibration, at_threshold and at_wait_threshold (precision/recall),
                        training_window, ...`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const threads = args.flags.get('threads');
    const labels: Record<TrainPhase, string> = { reading: 'reading histories', calibration: 'cross-fitting calibration forests', classifier: 'training drop classifier', 'drop size': 'training drop-size forest', evaluating: 'evaluating', saving: 'saving model' };
    const report = await trainModel(
      {
        workspace,
        out: stringFlag(args, 'out'),
        horizonDays: numberFlag(args, 'horizon-days', 14, { min: 1, max: 365 }),
        minDropPct: numberFlag(args, 'min-drop-pct', 5, { min: 0.01, max: 99 }),
        threshold: numberFlag(args, 'threshold', 0.5, { min: 0.01, max: 0.99 }),
        waitThreshold: args.flags.has('wait-threshold') ? numberFlag(args, 'wait-threshold', 0.5, { min: 0.01, max: 1 }) : undefined,
        trees: numberFlag(args, 'trees', 100, { min: 1, max: 2000, integer: true }),
        maxDepth: numberFlag(args, 'max-depth', 8, { min: 1, max: 40, integer: true }),
        minSamplesLeaf: numberFlag(args, 'min-samples-leaf', 50, { min: 1, integer: true }),
        maxFeatures: stringFlag(args, 'max-features', 'sqrt') === 'sqrt' ? 'sqrt' : numberFlag(args, 'max-features', 1, { min: 0.01 }),
        seed: numberFlag(args, 'seed', 1, { integer: true }),
        threads: threads === undefined ? undefined : numberFlag(args, 'threads', 2, { min: 1, max: 64, integer: true }),
      },
      { onProgress: ({ phase, done, total }) => io.progress(labels[phase], done, total) },
    );
    if (args.switches.has('json')) {
      io.json(report);
      return;
    }
    io.out(`model ${report.model_version} written to ${report.model_file}`);
    io.out(`rows: ${report.rows.train} train, ${report.rows.test} test (positives ${(report.positives_rate.train * 100).toFixed(1)}% / ${(report.positives_rate.test * 100).toFixed(1)}%)`);
    io.out(`test AUC ${report.auc}, PR-AUC ${report.pr_auc}, Brier ${report.brier} (base rate ${report.brier_base_rate})`);
    io.out(`will_drop at ${report.at_threshold.threshold}: precision ${report.at_threshold.precision}, recall ${report.at_threshold.recall}`);
    io.out(`Wait at ${report.at_wait_threshold.threshold}: precision ${report.at_wait_threshold.precision}, recall ${report.at_wait_threshold.recall}`);
  },
};
