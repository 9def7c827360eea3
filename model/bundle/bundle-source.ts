import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadBundle, type LoadedBundle } from './loaded-bundle';
import { BundleError } from './bundle-format';

/** Where a bundle lives: a local file, or an S3 object (`s3://BUCKET/KEY`). */
export type BundleLocation = { kind: 'file'; path: string } | { kind: 's3'; bucket: string; key: string };

export function parseBundleLocation(text: string): BundleLocation {
  if (text.startsWith('s3://')) {
    const rest = text.slice(5);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) throw new Error(`"${text}" is not s3://BUCKET/KEY`);
    return { kind: 's3', bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
  }
  return { kind: 'file', path: resolve(text) };
}

export function describeLocation(location: BundleLocation): string {
  return location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path;
}

/**
 * An S3 client with the standard credential chain (environment, profile, the EC2 instance role);
 * `endpoint` points it at an S3-compatible server such as s3rver (path-style addressing).
 */
export function createS3Client(endpoint?: string, region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1'): S3Client {
  return new S3Client(endpoint ? { region, endpoint, forcePathStyle: true } : { region });
}

/** The version tag of the bundle at `location` without reading it: the S3 ETag, or a file's size and mtime. */
export async function bundleTag(location: BundleLocation, s3?: S3Client): Promise<string> {
  if (location.kind === 'file') {
    const info = await stat(location.path);
    return `${info.size}-${info.mtimeMs}`;
  }
  const head = await requireS3(s3).send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
  if (!head.ETag) throw new Error('S3 returned no ETag');
  return head.ETag;
}

/** Reads and loads the bundle; throws BundleError when its content is refused. */
export async function fetchBundle(location: BundleLocation, s3?: S3Client, expectedTag?: string): Promise<LoadedBundle> {
  if (location.kind === 'file') {
    const tag = await bundleTag(location);
    return await loadBundle(await readFile(location.path), tag);
  }
  // IfMatch: the bytes belong to the ETag we decided to load (no half-noticed overwrite).
  const object = await requireS3(s3).send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...(expectedTag ? { IfMatch: expectedTag } : {}) }));
  if (!object.Body) throw new BundleError('the S3 object has no body');
  const bytes = await object.Body.transformToByteArray();
  return await loadBundle(bytes, object.ETag ?? expectedTag ?? '');
}

/** Writes bundle bytes to a file or an S3 object; returns the S3 ETag or the file path. */
export async function storeBundle(location: BundleLocation, bytes: Buffer, s3?: S3Client): Promise<string> {
  if (location.kind === 'file') {
    // Write then rename: a server watching the file never reads half a bundle.
    const temporary = `${location.path}.tmp-${process.pid}`;
    await writeFile(temporary, bytes);
    await rename(temporary, location.path);
    return location.path;
  }
  const put = await requireS3(s3).send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: bytes, ContentType: 'application/gzip' }));
  return put.ETag ?? '';
}

function requireS3(s3: S3Client | undefined): S3Client {
  if (!s3) throw new Error('an S3 client is needed for an s3:// bundle');
  return s3;
}

export interface BundleWatcherOptions {
  location: BundleLocation;
  s3?: S3Client;
  /** Tag of the bundle being served now. */
  currentTag: string;
  intervalMs: number;
  /** Runs on a new bundle before it is handed over (e.g. precomputing its answers). */
  prepare?(bundle: LoadedBundle): Promise<void>;
  onBundle(bundle: LoadedBundle): void;
  log(message: string): void;
}

export interface BundleWatcher {
  /** The last refused bundle (tag and reason), for /health. */
  lastRefusal(): { tag: string; reason: string; at: string } | undefined;
  /** Runs one poll now (tests). */
  poll(): Promise<void>;
  stop(): void;
}

/**
 * Polls the bundle's tag (S3 HeadObject: one small request per interval) and loads a new bundle
 * when it changes. A bundle that fails any check is refused, logged and remembered by tag, so the
 * old one keeps serving and the broken object is not downloaded again until it changes.
 */
export function watchBundle(options: BundleWatcherOptions): BundleWatcher {
  let servingTag = options.currentTag;
  let refusedTag: string | undefined;
  let refusal: { tag: string; reason: string; at: string } | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function pollOnce(): Promise<void> {
    let tag: string;
    try {
      tag = await bundleTag(options.location, options.s3);
    } catch (error) {
      options.log(`bundle watch: cannot read the tag of ${describeLocation(options.location)}: ${(error as Error).message}`);
      return;
    }
    if (tag === servingTag || tag === refusedTag) return;
    try {
      const bundle = await fetchBundle(options.location, options.s3, options.location.kind === 's3' ? tag : undefined);
      await options.prepare?.(bundle);
      if (stopped) return;
      servingTag = bundle.tag || tag;
      refusedTag = undefined;
      options.onBundle(bundle);
      options.log(`bundle swapped in: model ${bundle.model.version}, ${bundle.products.size} products, created ${new Date(bundle.createdAt).toISOString()}`);
    } catch (error) {
      const reason = error instanceof BundleError ? error.message : `cannot load: ${(error as Error).message}`;
      if (error instanceof BundleError) {
        refusedTag = tag;
        refusal = { tag, reason, at: new Date().toISOString() };
      }
      options.log(`bundle refused (${tag}): ${reason}; the previous bundle keeps serving`);
    }
  }

  const poll = () => (running ??= pollOnce().finally(() => (running = undefined)));
  const timer = setInterval(() => void poll(), options.intervalMs);
  timer.unref();
  return {
    lastRefusal: () => refusal,
    poll,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
