import { createHash, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzipSync } from 'node:zlib';

/**
 * The model bundle: everything the headless server needs to answer, with no database
 * (docs/decisions/0005-model-bundle-and-server.md).
 *
 * On disk (or in S3) a bundle is one gzip stream of lines:
 *   line 1        a JSON header {"format":"pricedrop-bundle","format_version":2,"sha256":"…","bytes":N,…}
 *   line 2        the JSON payload: created_at, the model file as is, the products without history
 *   lines 3…      one JSON line per product, in payload order: its price history [[time, price], …]
 * The header's SHA-256 and byte count cover everything after line 1. `zcat bundle | head -1` shows
 * what a bundle is; a truncated, corrupted or hand-edited bundle is refused (gzip CRC, byte count,
 * checksum) before anything in it is trusted, then the payload is checked field by field.
 *
 * Histories are the bulk of a bundle (80 % of the Pick n Pay one) and the server only ever sends
 * them out again, so it keeps them as the raw bytes of their lines: no parsed objects (peak memory)
 * and no parse on the event loop when a new bundle is swapped in. `checkHistories` still parses
 * each line once, in slices, before a bundle is served.
 */
export const BUNDLE_FORMAT = 'pricedrop-bundle';
export const BUNDLE_FORMAT_VERSION = 2;

/** Largest uncompressed bundle accepted (a guard against gzip bombs). */
export const MAX_BUNDLE_BYTES = 512 * 1024 * 1024;

export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  format_version: number;
  /** Hex SHA-256 of everything after the header line. */
  sha256: string;
  /** Length in bytes of everything after the header line. */
  bytes: number;
  created_at: string;
  model_version: string;
  products: number;
}

/** [UTC ISO time or day, price]: the price holds from this time until the next point. */
export type PricePoint = [string, number];

/** One product as the server knows it: identity, latest state and the features for the predictor. */
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
}

/** A product as `publish` hands it over: with its recent price history, oldest first. */
export interface PublishedProduct extends BundleProduct {
  history: PricePoint[];
}

export interface BundlePayload {
  created_at: string;
  /** The trained model exactly as the model file holds it (validated by the serving model). */
  model: unknown;
  products: BundleProduct[];
}

export interface BundleInput {
  created_at: string;
  model: unknown;
  products: PublishedProduct[];
}

/** Product i's history as the JSON text of its line (sent as is by GET /api/products/:id). */
export interface BundleHistories {
  readonly count: number;
  text(index: number): string;
}

export interface DecodedBundle {
  header: BundleHeader;
  payload: BundlePayload;
  histories: BundleHistories;
}

/** A bundle that fails any check: the message says which, and the caller keeps what it had. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/** Serialises and compresses a bundle with its header. */
export function encodeBundle(input: BundleInput, modelVersion: string): { bytes: Buffer; header: BundleHeader } {
  const products = input.products.map(({ history: _history, ...product }) => product);
  const lines = [JSON.stringify({ created_at: input.created_at, model: input.model, products }), ...input.products.map((p) => JSON.stringify(p.history))];
  const body = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    format_version: BUNDLE_FORMAT_VERSION,
    sha256: createHash('sha256').update(body).digest('hex'),
    bytes: body.length,
    created_at: input.created_at,
    model_version: modelVersion,
    products: products.length,
  };
  return { bytes: gzipSync(Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), body]), { level: 6 }), header };
}

/** Decompresses and checks a bundle's bytes (synchronously: tests, tools, publish). */
export function decodeBundle(bytes: Buffer | Uint8Array): DecodedBundle {
  let raw: Buffer;
  try {
    raw = gunzipSync(bytes, { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (error) {
    throw new BundleError(`not a readable gzip bundle (${(error as Error).message})`);
  }
  const { header, body } = splitHeader(raw);
  if (createHash('sha256').update(body).digest('hex') !== header.sha256) throw new BundleError('checksum mismatch: the bundle is corrupt');
  return decodeBody(header, body);
}

const gunzipAsync = promisify(gunzip);

/**
 * The same as decodeBundle, with the decompression and the checksum off the event loop (zlib and
 * WebCrypto run on libuv's pool): what the server uses, so a hot swap blocks requests only for
 * the payload's JSON.parse (products and model, not histories).
 */
export async function decodeBundleAsync(bytes: Buffer | Uint8Array): Promise<DecodedBundle> {
  let raw: Buffer;
  try {
    raw = await gunzipAsync(bytes, { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (error) {
    throw new BundleError(`not a readable gzip bundle (${(error as Error).message})`);
  }
  const { header, body } = splitHeader(raw);
  const digest = Buffer.from(await webcrypto.subtle.digest('SHA-256', body)).toString('hex');
  if (digest !== header.sha256) throw new BundleError('checksum mismatch: the bundle is corrupt');
  return decodeBody(header, body);
}

function splitHeader(raw: Buffer): { header: BundleHeader; body: Buffer } {
  const newline = raw.indexOf(0x0a);
  if (newline < 0 || newline > 4096) throw new BundleError('no bundle header line');
  let header: BundleHeader;
  try {
    header = JSON.parse(raw.subarray(0, newline).toString('utf8')) as BundleHeader;
  } catch {
    throw new BundleError('the bundle header is not JSON');
  }
  if (!header || header.format !== BUNDLE_FORMAT) throw new BundleError('not a PriceDrop model bundle');
  if (header.format_version !== BUNDLE_FORMAT_VERSION) throw new BundleError(`unsupported bundle format version ${String(header.format_version)} (this server reads ${BUNDLE_FORMAT_VERSION}); publish it again with this version`);
  const body = raw.subarray(newline + 1);
  if (body.length !== header.bytes) throw new BundleError(`the bundle body is ${body.length} bytes, its header says ${String(header.bytes)}`);
  return { header, body };
}

function decodeBody(header: BundleHeader, body: Buffer): DecodedBundle {
  const payloadEnd = body.indexOf(0x0a);
  if (payloadEnd < 0) throw new BundleError('the bundle has no payload line');
  let payload: unknown;
  try {
    payload = JSON.parse(body.subarray(0, payloadEnd).toString('utf8'));
  } catch {
    throw new BundleError('the bundle payload is not JSON');
  }
  const checked = checkPayload(payload);
  if (checked.products.length !== header.products) throw new BundleError(`the payload has ${checked.products.length} products, the header says ${String(header.products)}`);
  // One line per product; JSON text never holds a raw newline, so lines split safely.
  const offsets = new Uint32Array(checked.products.length + 1);
  let at = payloadEnd + 1;
  for (let i = 0; i < checked.products.length; i++) {
    offsets[i] = at;
    const end = body.indexOf(0x0a, at);
    if (end < 0) throw new BundleError(`the bundle has ${i} history lines for ${checked.products.length} products`);
    at = end + 1;
  }
  offsets[checked.products.length] = at;
  if (at !== body.length) throw new BundleError('the bundle has more history lines than products');
  return {
    header,
    payload: checked,
    histories: {
      count: checked.products.length,
      text: (index) => body.toString('utf8', offsets[index]!, offsets[index + 1]! - 1),
    },
  };
}

/**
 * Parses every history line once and checks it is a list of [string, finite number], yielding to
 * the event loop every `sliceMs` (a hot swap must not stall the bundle still being served).
 */
export async function checkHistories(histories: BundleHistories, sliceMs = 10): Promise<void> {
  let sliceStart = performance.now();
  for (let i = 0; i < histories.count; i++) {
    let points: unknown;
    try {
      points = JSON.parse(histories.text(i));
    } catch {
      throw new BundleError(`history line ${i + 1} is not JSON`);
    }
    if (!Array.isArray(points) || !points.every((point) => Array.isArray(point) && point.length === 2 && typeof point[0] === 'string' && isFiniteNumber(point[1]))) {
      throw new BundleError(`history line ${i + 1} is not a list of [time, price]`);
    }
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
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
  });
  return value as unknown as BundlePayload;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
