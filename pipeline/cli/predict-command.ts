import { requiredFlag, stringFlag, workspaceOf, type Command } from './command';
import { defaultModelPath, loadModel } from '../../model/predictor';
import { predictProduct } from '../../model/cache-predictions';
import { openWorkspaceCache } from '../../model/training';

/** `pricedrop predict`: Buy now / Wait advice for one product. */
export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict whether a product will get cheaper soon: Buy now or Wait, with reasons',
  usage: `Usage: pricedrop predict --product ID [--workspace DIR] [--model FILE] [--source NAME] [--json]

Computes the product's features from its history in the cache (as of the source's last
observation) and asks the model. Prints {"product_id","will_drop","confidence",
"expected_drop_amount","expected_drop_pct","risk_level","recommendation","reasons"}.

  --product ID     the product id (as in the cache)
  --model FILE     model file (default DIR/models/current.json)
  --source NAME    when the same id exists in several sources (default: the most recently seen)
  --json           one JSON object on stdout

p is the calibrated probability of a drop of at least X % within H days (the model's options).
will_drop: p >= 0.5; confidence: the calibrated probability that will_drop is right.
recommendation: Wait when p >= the model's wait threshold (tuned at training), else Buy now.
risk_level (of overpaying by buying now): Low when p < wait threshold, Medium up to
max(0.5, wait threshold), High above. expected_drop_*: the size of the drop should one come,
estimated by a regression forest. reasons: the features that moved p most, with their effect.`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const productId = requiredFlag(args, 'product');
    const model = loadModel(stringFlag(args, 'model') ?? defaultModelPath(workspace));
    const db = openWorkspaceCache(workspace);
    try {
      const full = predictProduct(db, model, productId, { source: stringFlag(args, 'source') });
      const prediction = {
        product_id: full.product_id,
        will_drop: full.will_drop,
        confidence: full.confidence,
        expected_drop_amount: full.expected_drop_amount,
        expected_drop_pct: full.expected_drop_pct,
        risk_level: full.risk_level,
        recommendation: full.recommendation,
        reasons: full.reasons,
      };
      if (args.switches.has('json')) {
        io.json(prediction);
        return;
      }
      io.out(`${full.title} (${full.product_id}, ${full.source}): ${full.price} ${full.currency} as of ${full.as_of}`);
      const p = prediction.will_drop ? prediction.confidence : 1 - prediction.confidence;
      const { horizon_days: h, min_drop_pct: x, wait_threshold: wait } = model.meta.options;
      io.out(`${prediction.recommendation}: ${(p * 100).toFixed(0)}% chance of a drop of ${x}% or more within ${h} days (Wait from ${(wait * 100).toFixed(0)}%; risk ${prediction.risk_level})`);
      io.out(`expected drop if it comes: ${prediction.expected_drop_pct}% (${prediction.expected_drop_amount} ${full.currency})`);
      for (const reason of prediction.reasons) io.out(`  - ${reason.text}`);
    } finally {
      db.close();
    }
  },
};
