import type { BundleProduct } from '../bundle/bundle-format';

/** What `pricedrop predict --json` answers; the server answers exactly these fields. */
export interface Prediction {
  product_id: string;
  will_drop: boolean;
  confidence: number;
  expected_drop_amount: number;
  expected_drop_pct: number;
  risk_level: 'Low' | 'Medium' | 'High';
  recommendation: 'Buy now' | 'Wait';
  reasons: string[];
}

/** A request input the model refuses (becomes a 400 with the message). */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

/**
 * The predictor as the server sees it: built once per bundle, then called per request.
 * The bundle's `model` field is whatever the model file holds; this seam turns it into calls of
 * the forecaster's predictor (model/predictor), so the desktop and the server run the same code.
 */
export interface ServingModel {
  version: string;
  /** GET /api/model: version, options, metrics, feature schema, training window. */
  info: Record<string, unknown>;
  /** Names of the features a feature payload must carry. */
  featureNames: readonly string[];
  predictProduct(product: BundleProduct): Prediction;
  /** A product the bundle does not know: the caller sends its features; bad input throws PayloadError. */
  predictFeatures(productId: string, features: Record<string, unknown>): Prediction;
}
