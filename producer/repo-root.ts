import { packageRoot } from '../pipeline/runtime/paths';

/** The repository root, as pipeline/runtime/paths.ts finds it (from the sources or a bundle). */
export const REPO_ROOT = packageRoot();
