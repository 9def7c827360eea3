import { ConflictError, NotFoundError, UpstreamError, ValidationError } from '../base/errors';
import { isNoSpace } from '../base/disk-full';

/** The error body every transport returns: a message for people, a code for programs. */
export interface ApiErrorBody {
  error: { code: 'bad_request' | 'unauthorized' | 'not_found' | 'forbidden' | 'conflict' | 'upstream' | 'no_space' | 'internal'; message: string };
}

/**
 * Maps any error a handler throws to an HTTP status and a body that is safe to show. Refusals
 * keep their message (400 invalid input, 404 unknown, 409 conflict); a service that failed is 502
 * and a full disk 507, both with their message (the reason; what was kept, what to do); anything else is a real fault: a generic 500 (no stack,
 * no paths), which the transport logs with its stack on the backend.
 */
export function toApiError(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof ValidationError) return { status: 400, body: { error: { code: 'bad_request', message: error.message } } };
  if (error instanceof NotFoundError) return { status: 404, body: { error: { code: 'not_found', message: error.message } } };
  if (error instanceof ConflictError) return { status: 409, body: { error: { code: 'conflict', message: error.message } } };
  if (error instanceof UpstreamError) return { status: 502, body: { error: { code: 'upstream', message: error.message } } };
  if (isNoSpace(error)) {
    const message = error instanceof Error && error.name === 'NoSpaceError' ? error.message : 'No space left on the disk holding the workspace; free some space and try again.';
    return { status: 507, body: { error: { code: 'no_space', message } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'Internal error; see the PriceDrop log for details.' } } };
}

/** A handler as the transports call it: params unknown, validated by the handler. */
export type AnyHandler = (params: unknown) => Promise<unknown>;

export type InvokeOutcome = { ok: true; result: unknown } | { ok: false; status: number; body: ApiErrorBody };

/**
 * Runs one handler for a transport (HTTP or IPC): its result, or the refusal as status and body.
 * A 5xx is a fault of the backend (or its disk): it is logged through `log` with the request name
 * and the stack, on the backend only; the client gets the safe body of toApiError.
 */
export async function invokeHandler(handler: AnyHandler, name: string, params: unknown, log: (message: string) => void): Promise<InvokeOutcome> {
  try {
    return { ok: true, result: (await handler(params)) ?? null };
  } catch (error) {
    const { status, body } = toApiError(error);
    if (status >= 500) log(`${name} failed: ${describeFault(error)}`);
    return { ok: false, status, body };
  }
}

/** An error with its stack (and its cause's), for the backend's log. */
export function describeFault(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return String(error);
  const own = error.stack ?? `${error.name}: ${error.message}`;
  return error.cause !== undefined && depth < 4 ? `${own}\nCaused by: ${describeFault(error.cause, depth + 1)}` : own;
}
