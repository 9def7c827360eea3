import { requiredFlag, stringFlag, workspaceOf, type Command } from '../base/command-line';
import { defaultModelPath, loadModel } from '../../model/predictor';
import { predictProduct } from '../forecasting/cache-predictions';
import { openWorkspaceCache } from '../forecasting/workspace-cache';

/** `pricedrop predict`: Buy now / Wait advice for one product. */
export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict whether a product will get cheaper soon: Buy now or Wait, with reasons',
  usage: `Usage: pricedrop predict --product ID [--workspace DIR] [--model FILE] [--source NAME] [--json]

Computes the product's features from its history in the cache (as of its last known day, with
its source's cross-section) and asks the model. Prints {"product_id","will_drop","confidence",
"expected_drop_amount","expected_drop_pct","risk_level","recommendation","reasons","policy"}.

  --product ID     the product id (as in the cache)
  --model FILE     model file (default DIR/models/current.json)
  --source NAME    when the same id exists in several sources (default: the most recently seen)
  --json           one JSON object on stdout

recommendation: the advice of the policy in use ("policy": "model", or the baseline that beat the
model on validation, "rule_tuned" or "frequency_baseline", named in the reasons). The model's
policy waits when the expected saving of waiting (chance of a drop of X % within the H days times
its expected depth, minus the expected rise otherwise) exceeds a cost chosen on validation, and
the chance that waiting ends worse is small. will_drop is true exactly when the advice is Wait;
confidence is the chance the advice is right; risk_level follows it (Low >= 0.8, Medium >= 0.65,
High below). expected_drop_*: the depth of the drop should one come. reasons: the features that
moved the drop chance most, with their effect.`,
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
        policy: full.policy,
      };
      if (args.switches.has('json')) {
        io.json(prediction);
        return;
      }
      io.out(`${full.title} (${full.product_id}, ${full.source}): ${full.price} ${full.currency} as of ${full.as_of}`);
      const { horizon_days: h } = model.meta.options;
      io.out(`${prediction.recommendation} (buying within ${h} days): ${(prediction.confidence * 100).toFixed(0)}% confident, risk ${prediction.risk_level}; advice from ${prediction.policy}`);
      io.out(`expected drop if it comes: ${prediction.expected_drop_pct}% (${prediction.expected_drop_amount} ${full.currency})`);
      for (const reason of prediction.reasons) io.out(`  - ${reason.text}`);
    } finally {
      db.close();
    }
  },
};
