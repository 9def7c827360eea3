import { BundleError, type BundleProduct } from '../bundle/bundle-format';
import { FEATURE_COUNT, FEATURE_NAMES } from '../features';
import { featuresFromRecord, parseModel, predictFromFeatures, type LoadedModel } from '../predictor';
import { PayloadError, type ServingModel } from './serving-model';

/**
 * Builds the serving model from a bundle: the model file's JSON through the forecaster's
 * `parseModel` (format, feature schema and forests are checked there), and every product's
 * feature vector checked for the schema's width, so a bundle that loads can answer every request.
 */
export function createServingModel(modelJson: unknown, products: readonly BundleProduct[]): ServingModel {
  let model: LoadedModel;
  try {
    model = parseModel(modelJson);
  } catch (error) {
    throw new BundleError(`the bundle's model is refused: ${(error as Error).message}`);
  }
  const vectors = new Map<string, Float64Array>();
  for (const product of products) {
    const features = product.features;
    if (!Array.isArray(features) || features.length !== FEATURE_COUNT || !features.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new BundleError(`product "${product.id.slice(0, 50)}" has no feature vector of the model's ${FEATURE_COUNT} features`);
    }
    vectors.set(product.id, Float64Array.from(features as number[]));
  }
  const { meta } = model;
  return {
    version: meta.model_version,
    info: {
      version: meta.model_version,
      created_at: meta.created_at,
      options: meta.options,
      feature_schema: meta.feature_schema,
      training_window: meta.training_window,
      policy: meta.policy.in_use,
      policy_reason: meta.policy.reason,
      backtest: meta.backtest,
      importance: meta.importance,
      categories: meta.categories.length,
    },
    payloadKeys: new Set([...FEATURE_NAMES, 'category']),
    predictProduct: (product) => predictFromFeatures(model, vectors.get(product.id) ?? Float64Array.from(product.features as number[]), product.id),
    predictFeatures(productId, record) {
      let features: Float64Array;
      try {
        features = featuresFromRecord(model, record);
      } catch (error) {
        throw new PayloadError(`features: ${(error as Error).message}`);
      }
      return predictFromFeatures(model, features, productId);
    },
  };
}
