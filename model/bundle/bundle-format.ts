import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * The model bundle: everything the headless server needs to answer, with no database.
 *
 * On disk (or in S3) a bundle is one gzip stream holding two parts:
 *   line 1  a JSON header  {"format":"pricedrop-bundle","format_version":1,"sha256":"…","bytes":N,…}
 *   rest    the JSON payload (N bytes of UTF-8), whose SHA-256 the header carries
 * so `zcat bundle.json.gz | head -1` shows what a bundle is without reading the rest, and a
 * truncated, corrupted or hand-edited bundle is refused (gzip CRC, byte count, then checksum)
 * before anything in it is trusted. The payload is then checked field by field (decodeBundle).
 */
export const BUNDLE_FORMAT = 'pricedrop-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

/** Largest uncompressed bundle accepted (a guard against gzip bombs); ~1 KB per product with 180 days of history. */
export const MAX_BUNDLE_BYTES = 512 * 1024 * 1024;

export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  format_version: number;
  /** Hex SHA-256 of the payload bytes. */
  sha256: string;
  /** Payload length in bytes. */
  bytes: number;
  created_at: string;
  model_version: string;
  products: number;
}

/** One product as the server knows it: identity, latest state, features for the predictor, recent history. */
export interface BundleProduct {
  id: string;
  name: string;
  category: string;
  currency: string;
  /** Latest observed price. */
  price: number;
  /** List/was price at the latest observation, when known. */
  old_price: number | null;
  /** UTC ISO 8601 of the latest observation. */
  last_observed_at: string;
  /** Where the product's data came from (the cache's source), when known. */
  source?: string;
  /** UTC ISO 8601 moment the features describe (the source's last observation). */
  as_of?: string;
  /**
   * The product's latest feature state, exactly what the predictor takes for this product
   * (opaque to the bundle; the serving model validates it when the bundle is loaded).
   */
  features: unknown;
  /** Recent price history, oldest first: [UTC ISO time or day, price], each price holding until the next point. */
  history: [string, number][];
}

export interface BundlePayload {
  created_at: string;
  /** The trained model exactly as the model file holds it (validated by the serving model). */
  model: unknown;
  products: BundleProduct[];
}

/** A bundle that fails any check: the message says which, and the caller keeps what it had. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/** Serialises and compresses a payload with its header. */
export function encodeBundle(payload: BundlePayload, modelVersion: string): { bytes: Buffer; header: BundleHeader } {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    format_version: BUNDLE_FORMAT_VERSION,
    sha256: createHash('sha256').update(body).digest('hex'),
    bytes: body.length,
    created_at: payload.created_at,
    model_version: modelVersion,
    products: payload.products.length,
  };
  return { bytes: gzipSync(Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), body]), { level: 6 }), header };
}

/** Decompresses and checks a bundle's bytes; returns the header and the structurally valid payload. */
export function decodeBundle(bytes: Buffer | Uint8Array): { header: BundleHeader; payload: BundlePayload } {
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes, { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (error) {
    throw new BundleError(`not a readable gzip bundle (${(error as Error).message})`);
  }
  const newline = raw.indexOf(0x0a);
  if (newline < 0 || newline > 4096) throw new BundleError('no bundle header line');
  let header: BundleHeader;
  try {
    header = JSON.parse(raw.subarray(0, newline).toString('utf8')) as BundleHeader;
  } catch {
    throw new BundleError('the bundle header is not JSON');
  }
  if (!header || header.format !== BUNDLE_FORMAT) throw new BundleError('not a PriceDrop model bundle');
  if (header.format_version !== BUNDLE_FORMAT_VERSION) throw new BundleError(`unsupported bundle format version ${String(header.format_version)} (this server reads ${BUNDLE_FORMAT_VERSION})`);
  const body = raw.subarray(newline + 1);
  if (body.length !== header.bytes) throw new BundleError(`payload is ${body.length} bytes, header says ${String(header.bytes)}`);
  const digest = createHash('sha256').update(body).digest('hex');
  if (digest !== header.sha256) throw new BundleError('checksum mismatch: the bundle is corrupt');
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BundleError('the bundle payload is not JSON');
  }
  return { header, payload: checkPayload(payload) };
}

function checkPayload(value: unknown): BundlePayload {
  if (!isObject(value)) throw new BundleError('payload is not an object');
  if (typeof value.created_at !== 'string' || Number.isNaN(Date.parse(value.created_at))) throw new BundleError('payload.created_at is not a timestamp');
  if (!('model' in value) || value.model === null || typeof value.model !== 'object') throw new BundleError('payload.model is missing');
  if (!Array.isArray(value.products)) throw new BundleError('payload.products is not a list');
  const seen = new Set<string>();
  value.products.forEach((product: unknown, i: number) => {
    const where = `products[${i}]`;
    if (!isObject(product)) throw new BundleError(`${where} is not an object`);
    for (const key of ['id', 'name', 'category', 'currency', 'last_observed_at'] as const) {
      if (typeof product[key] !== 'string') throw new BundleError(`${where}.${key} is not a string`);
    }
    const id = product.id as string;
    if (id === '' || id.length > 200) throw new BundleError(`${where}.id is empty or too long`);
    if (seen.has(id)) throw new BundleError(`${where}.id "${id.slice(0, 50)}" appears twice`);
    seen.add(id);
    if (!isFiniteNumber(product.price)) throw new BundleError(`${where}.price is not a number`);
    if (product.old_price !== null && !isFiniteNumber(product.old_price)) throw new BundleError(`${where}.old_price is not a number or null`);
    if (!Array.isArray(product.history)) throw new BundleError(`${where}.history is not a list`);
    for (const point of product.history as unknown[]) {
      if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'string' || !isFiniteNumber(point[1])) {
        throw new BundleError(`${where}.history has an entry that is not [day, price]`);
      }
    }
  });
  return value as unknown as BundlePayload;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
