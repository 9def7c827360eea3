import { BundleError, type BundleProduct } from '../bundle/bundle-format';
import { deserializeForest, explainRow, type SerializedForest } from '../forest/random-forest';
import { PayloadError, type Prediction, type ServingModel } from './serving-model';

/**
 * INTERIM adapter until model/predictor.ts lands: reads `{version, feature_names, forest, options,
 * metrics}` and predicts with the shared forest. Replaced by a thin call into the forecaster's
 * predictor as soon as it exists (issue 6).
 */
export function createServingModel(model: unknown, products: readonly BundleProduct[]): ServingModel {
  const m = model as { version?: unknown; feature_names?: unknown; forest?: SerializedForest; options?: unknown; metrics?: unknown };
  if (typeof m.version !== 'string' || !Array.isArray(m.feature_names) || !m.feature_names.every((n) => typeof n === 'string')) {
    throw new BundleError('the bundle model has no version or feature schema');
  }
  let forest;
  try {
    forest = deserializeForest(m.forest as SerializedForest);
  } catch (error) {
    throw new BundleError(`the bundle model is unusable: ${(error as Error).message}`);
  }
  const names = m.feature_names as string[];
  if (forest.features !== names.length) throw new BundleError('the forest and the feature schema disagree');
  for (const product of products) {
    if (!Array.isArray(product.features) || product.features.length !== names.length) throw new BundleError(`product "${product.id.slice(0, 50)}" has no feature row of the model's width`);
  }
  const predictRow = (productId: string, row: number[], price: number): Prediction => {
    const { prediction, contributions } = explainRow(forest, row);
    const confidence = Math.round(prediction * 1000) / 1000;
    const willDrop = prediction >= 0.5;
    const dropPct = willDrop ? 7 : 0;
    const order = [...contributions.keys()].sort((a, b) => Math.abs(contributions[b]!) - Math.abs(contributions[a]!));
    return {
      product_id: productId,
      will_drop: willDrop,
      confidence,
      expected_drop_amount: Math.round(price * dropPct) / 100,
      expected_drop_pct: dropPct,
      risk_level: prediction >= 0.66 ? 'High' : prediction >= 0.33 ? 'Medium' : 'Low',
      recommendation: willDrop ? 'Wait' : 'Buy now',
      reasons: order.slice(0, 3).map((f) => `${names[f]} = ${row[f]}`),
    };
  };
  return {
    version: m.version,
    info: { version: m.version, feature_schema: names, options: m.options ?? {}, metrics: m.metrics ?? {} },
    featureNames: names,
    predictProduct: (product) => predictRow(product.id, product.features as number[], product.price),
    predictFeatures(productId, features) {
      const row = names.map((name) => {
        const value = features[name];
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new PayloadError(`features.${name} must be a finite number`);
        return value;
      });
      const price = typeof features.price === 'number' ? features.price : 0;
      return predictRow(productId, row, price);
    },
  };
}
