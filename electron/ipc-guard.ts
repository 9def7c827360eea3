/**
 * The checks every IPC request passes before it reaches a handler (the handlers then validate
 * their own fields, as for HTTP). Pure, so it is tested without Electron: a request names a known
 * handler, and its params are absent or one plain JSON-like object of bounded size and depth
 * (the same shape check as the HTTP transport's, pipeline/api/validate.ts paramsProblem).
 */
import { MAX_REQUEST_BYTES, paramsProblem } from '../pipeline/api/validate';

export type GuardResult = { ok: true } | { ok: false; code: 'not_found' | 'bad_request'; message: string };

/** Same bound as the HTTP transport's request body. */
export const MAX_PARAMS_BYTES = MAX_REQUEST_BYTES;

export function checkInvoke(name: unknown, params: unknown, handlerNames: ReadonlySet<string>): GuardResult {
  if (typeof name !== 'string' || name.length > 100 || !handlerNames.has(name)) return { ok: false, code: 'not_found', message: 'Unknown request' };
  const problem = paramsProblem(params);
  if (problem) return { ok: false, code: 'bad_request', message: problem };
  if (params === undefined || params === null) return { ok: true };
  let size: number;
  try {
    size = JSON.stringify(params).length;
  } catch {
    return { ok: false, code: 'bad_request', message: 'params must be plain JSON data' };
  }
  if (size > MAX_PARAMS_BYTES) return { ok: false, code: 'bad_request', message: `params are larger than ${MAX_PARAMS_BYTES} bytes` };
  return { ok: true };
}
