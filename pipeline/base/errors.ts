/**
 * The errors that say what went wrong in terms a caller can act on, whichever layer throws them;
 * the transports map them to statuses (pipeline/api/api-errors.ts: 400, 404, 409, 502). A full
 * disk has its own test (disk-full.ts); anything else is a fault.
 */

/** Invalid input: a value out of range, a missing field (400, naming the field). */
export class ValidationError extends Error {
  override name = 'ValidationError';
}

/** A request for something that does not exist (404). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/**
 * A request the current state refuses (409): starting what already runs (the producer, a task of
 * the same kind), or an action whose prerequisite is missing (no model yet, no bucket set).
 */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/**
 * A service PriceDrop depends on (AWS, the Docker engine) refused or did not answer (502): not a
 * fault of the backend, and not of the request; the message carries the service's reason.
 */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}
