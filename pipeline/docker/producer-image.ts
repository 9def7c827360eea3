import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import { buildProducerBundle } from '../../producer/build-producer-bundle';
import { packageRoot } from '../base/paths';

/** The public base image the Dockerfile defaults to; CI and tests pass a local one (see .ci/docker-setup.sh). */
export const DEFAULT_BASE_IMAGE = 'node:20-bookworm-slim';
export const PRODUCER_IMAGE_REPOSITORY = 'pricedrop/producer';

export interface ProducerImage {
  /** `pricedrop/producer:<content hash>`: the hash covers the bundle, the Dockerfile and the base image. */
  tag: string;
  /** True when this call built it, false when it already existed. */
  built: boolean;
}

/**
 * Makes sure the producer image for the current code exists: bundles producer/main.ts (esbuild,
 * dependencies inlined), and builds producer/Dockerfile with that bundle as the only context file
 * unless an image with the same content hash is already there.
 */
export async function ensureProducerImage(docker: Docker, options: { baseImage?: string; onLog?(line: string): void } = {}): Promise<ProducerImage> {
  const baseImage = options.baseImage ?? process.env.PRICEDROP_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
  const folder = mkdtempSync(join(tmpdir(), 'pricedrop-producer-image-'));
  try {
    const bundle = readFileSync(await buildProducerBundle(join(folder, 'producer.mjs')));
    const dockerfile = readFileSync(join(packageRoot(), 'producer', 'Dockerfile'));
    const hash = createHash('sha256').update(bundle).update(dockerfile).update(baseImage).digest('hex').slice(0, 12);
    const tag = `${PRODUCER_IMAGE_REPOSITORY}:${hash}`;
    try {
      await docker.getImage(tag).inspect();
      return { tag, built: false };
    } catch {
      // Not there yet: build it.
    }
    options.onLog?.(`building ${tag} from producer/Dockerfile on ${baseImage}`);
    const context = pack();
    context.entry({ name: 'Dockerfile' }, dockerfile);
    context.entry({ name: 'producer.mjs' }, bundle);
    context.finalize();
    // tar-stream's pack is a streamx Readable; dockerode pipes it like a Node stream.
    const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: tag, buildargs: { BASE_IMAGE: baseImage }, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
          const failed = error?.message ?? output.find((item) => item.error)?.error;
          if (failed) reject(new Error(`docker build of ${tag} failed: ${failed}`));
          else resolve();
        },
        (event: { stream?: string }) => {
          const line = event.stream?.trim();
          if (line) options.onLog?.(line);
        },
      );
    });
    await docker.getImage(tag).tag({ repo: PRODUCER_IMAGE_REPOSITORY, tag: 'latest' });
    await removeOlderImages(docker, tag);
    return { tag, built: true };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Drops producer images of earlier code versions (one per change would pile up); images in use stay. */
async function removeOlderImages(docker: Docker, keep: string): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [`${PRODUCER_IMAGE_REPOSITORY}:*`] } }).catch(() => []);
  for (const image of images) {
    const tags = image.RepoTags ?? [];
    if (tags.includes(keep) || tags.includes(`${PRODUCER_IMAGE_REPOSITORY}:latest`)) continue;
    for (const tag of tags) await docker.getImage(tag).remove().catch(() => undefined);
  }
  // The classic builder leaves the build stage behind as an untagged image: drop ours only.
  await docker.pruneImages({ filters: { dangling: ['true'], label: ['pricedrop.stage=producer-build'] } }).catch(() => undefined);
}
