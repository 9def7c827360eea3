/**
 * A full disk, recognised wherever it surfaces: Node's file system calls fail with ENOSPC (or
 * EDQUOT over a quota), SQLite with SQLITE_FULL ("database or disk is full"). Each writer that can
 * meet one (the producer's spool and lake, the ETL, the sync's staging and commit) stops and says
 * what is kept and what the next run does, through NoSpaceError; the API answers it with 507.
 */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** A write that failed for lack of space, with a message that says where and what happens next. */
export class NoSpaceError extends Error {
  override name = 'NoSpaceError';
  readonly code = 'ENOSPC';
}

/** True for a no-space failure: the errno or SQLite code, a NoSpaceError (also one that crossed a worker boundary by name), or one of those as the cause. */
export function isNoSpace(error: unknown): boolean {
  for (let current: unknown = error, hops = 0; current instanceof Error && hops < 5; current = current.cause, hops++) {
    const code = (current as { code?: unknown }).code;
    if (current.name === 'NoSpaceError' || (typeof code === 'string' && NO_SPACE_CODES.has(code))) return true;
  }
  return false;
}

/**
 * The NoSpaceError for a failed write: "No space left on the disk holding WHERE: CONSEQUENCE".
 * An error that already is one passes through unchanged (the innermost writer said it best).
 */
export function noSpaceError(error: unknown, where: string, consequence: string): NoSpaceError {
  if (error instanceof NoSpaceError) return error;
  if (error instanceof Error && error.name === 'NoSpaceError') return new NoSpaceError(error.message, { cause: error }); // came back from a worker thread
  return new NoSpaceError(`No space left on the disk holding ${where}: ${consequence}`, { cause: error });
}
