import { UsageError, numberFlag, requiredFlag, stringFlag, type Command } from '../base/command-line';
import { benchForest } from '../../model/bench/bench-forest';

/** `pricedrop bench forest`: times the forest on a numeric CSV, to compare with scikit-learn on identical data. */
export const benchForestCommand: Command = {
  name: 'bench forest',
  summary: 'Time the random forest on a numeric CSV (train ms, predict ms, test AUC)',
  usage: `Usage: pricedrop bench forest --train FILE.csv --test FILE.csv --label COLUMN --trees N --max-depth D [options] --json

Trains the PriceDrop random forest on --train and scores --test (both numeric CSVs with a header;
every column but --label is a feature). Prints {"train_ms","predict_ms","auc",...}. Compare with
scikit-learn on the same files: /usr/bin/python3 model/bench/sklearn-reference.py (same flags).

Options:
  --train FILE.csv        training rows
  --test FILE.csv         test rows
  --label COLUMN          the 0/1 label column
  --trees N               number of trees
  --max-depth D           deepest leaf level (root = 0)
  --max-features F        features per split: a fraction (<= 1), a count (> 1) or "sqrt" (default)
  --min-samples-leaf N    default 1
  --seed N                default 1
  --threads N             worker threads (default: all cores)
  --impl NAME             pricedrop (default) or ml-random-forest (the npm package, slow)
  --json                  one JSON object on stdout`,
  async run(args, io) {
    const maxFeaturesRaw = stringFlag(args, 'max-features', 'sqrt');
    let maxFeatures: 'sqrt' | number = 'sqrt';
    if (maxFeaturesRaw !== 'sqrt') {
      maxFeatures = numberFlag(args, 'max-features', 0, { min: Number.MIN_VALUE });
    }
    const implementation = stringFlag(args, 'impl', 'pricedrop');
    if (implementation !== 'pricedrop' && implementation !== 'ml-random-forest') throw new UsageError(`--impl must be pricedrop or ml-random-forest, got "${implementation}"`);
    const threadsRaw = args.flags.get('threads');
    requiredFlag(args, 'trees');
    requiredFlag(args, 'max-depth');
    const result = await benchForest(
      {
        train: requiredFlag(args, 'train'),
        test: requiredFlag(args, 'test'),
        label: requiredFlag(args, 'label'),
        trees: numberFlag(args, 'trees', Number.NaN, { min: 1, integer: true }),
        maxDepth: numberFlag(args, 'max-depth', Number.NaN, { min: 1, integer: true }),
        maxFeatures,
        minSamplesLeaf: numberFlag(args, 'min-samples-leaf', 1, { min: 1, integer: true }),
        seed: numberFlag(args, 'seed', 1, { integer: true }),
        threads: threadsRaw === undefined ? undefined : numberFlag(args, 'threads', 2, { min: 1, max: 64, integer: true }),
        implementation,
      },
      (done, total) => io.progress('training trees', done, total),
    );
    if (!Number.isFinite(result.auc)) io.log('warning: the test set has a single class; AUC is undefined');
    if (args.switches.has('json')) io.json(result);
    else io.out(`train ${result.train_ms} ms, predict ${result.predict_ms} ms (${result.predict_us_per_row} µs/row), AUC ${result.auc}`);
  },
};
