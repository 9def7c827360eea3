import type { ApiErrorBody } from './contract';
import { ValidationError } from './validate';

/** A request for something that does not exist (404). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** A request that clashes with the current state, e.g. starting what already runs (409). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/**
 * Maps any error a handler throws to an HTTP status and a body that is safe to show:
 * known errors keep their message; anything else becomes a generic 500 (no stack, no paths).
 */
export function toApiError(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof ValidationError) return { status: 400, body: { error: { code: 'bad_request', message: error.message } } };
  if (error instanceof NotFoundError) return { status: 404, body: { error: { code: 'not_found', message: error.message } } };
  if (error instanceof ConflictError) return { status: 409, body: { error: { code: 'conflict', message: error.message } } };
  return { status: 500, body: { error: { code: 'internal', message: 'Internal error; see the PriceDrop log for details.' } } };
}
