import type { BundleProduct } from '../bundle/bundle-format';
import type { Prediction } from '../predictor';

export type { Prediction } from '../predictor';

/** A request input the model refuses (becomes a 400 with the message). */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

/**
 * The predictor as the server sees it: built once per bundle, then called per request.
 * The bundle's `model` field is the model file's JSON; predictor-adapter.ts turns it into calls of
 * the forecaster's predictor (model/predictor.ts), so the desktop, the CLI and the server run the
 * same code on the same feature vectors.
 */
export interface ServingModel {
  version: string;
  /** GET /api/model: version, options, metrics, feature schema, training window. */
  info: Record<string, unknown>;
  /** Names a feature payload may carry (the schema, plus aliases such as `category`). */
  payloadKeys: ReadonlySet<string>;
  predictProduct(product: BundleProduct): Prediction;
  /** A product the bundle does not know: the caller sends its features; bad input throws PayloadError. */
  predictFeatures(productId: string, features: Record<string, unknown>): Prediction;
}
