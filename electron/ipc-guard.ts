/**
 * The checks every IPC request passes before it reaches a handler (the handlers then validate
 * their own fields, as for HTTP). Pure, so it is tested without Electron: a request names a known
 * handler, and its params are absent or one plain JSON-like object of bounded size and depth.
 */
import { MAX_REQUEST_BYTES } from '../pipeline/api/validate';

export type GuardResult = { ok: true } | { ok: false; code: 'not_found' | 'bad_request'; message: string };

/** Same bound as the HTTP transport's request body. */
export const MAX_PARAMS_BYTES = MAX_REQUEST_BYTES;
const MAX_DEPTH = 20;

function plainDepth(value: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return depth;
  if (value === null || typeof value !== 'object') return depth;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return Number.POSITIVE_INFINITY; // Date, Map, typed arrays...
  let deepest = depth;
  for (const item of Object.values(value as Record<string, unknown>)) deepest = Math.max(deepest, plainDepth(item, depth + 1));
  return deepest;
}

export function checkInvoke(name: unknown, params: unknown, handlerNames: ReadonlySet<string>): GuardResult {
  if (typeof name !== 'string' || name.length > 100 || !handlerNames.has(name)) return { ok: false, code: 'not_found', message: 'Unknown request' };
  if (params === undefined || params === null) return { ok: true };
  if (typeof params !== 'object' || Array.isArray(params)) return { ok: false, code: 'bad_request', message: 'params must be an object' };
  if (plainDepth(params, 0) > MAX_DEPTH) return { ok: false, code: 'bad_request', message: 'params must be plain JSON data, nested at most 20 deep' };
  let size: number;
  try {
    size = JSON.stringify(params).length;
  } catch {
    return { ok: false, code: 'bad_request', message: 'params must be plain JSON data' };
  }
  if (size > MAX_PARAMS_BYTES) return { ok: false, code: 'bad_request', message: `params are larger than ${MAX_PARAMS_BYTES} bytes` };
  return { ok: true };
}
