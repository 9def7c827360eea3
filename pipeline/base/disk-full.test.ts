import { describe, expect, it } from 'vitest';
import { isNoSpace, NoSpaceError, noSpaceError } from './disk-full';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('a full disk', () => {
  it('is recognised from Node, SQLite, a worker thread, or as a cause', () => {
    expect(isNoSpace(enospc())).toBe(true);
    expect(isNoSpace(Object.assign(new Error('Disk quota exceeded'), { code: 'EDQUOT' }))).toBe(true);
    expect(isNoSpace(Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' }))).toBe(true);
    expect(isNoSpace(Object.assign(new Error('No space left on the disk holding x: y'), { name: 'NoSpaceError' }))).toBe(true);
    expect(isNoSpace(new Error('upload failed', { cause: enospc() }))).toBe(true);
    expect(isNoSpace(Object.assign(new Error('nope'), { code: 'EACCES' }))).toBe(false);
    expect(isNoSpace('ENOSPC')).toBe(false);
  });

  it('says where and what happens next, once (an inner message wins)', () => {
    const error = noSpaceError(enospc(), 'the lake (/data/lake)', '3 batches stay in the spool');
    expect(error).toBeInstanceOf(NoSpaceError);
    expect(error.message).toBe('No space left on the disk holding the lake (/data/lake): 3 batches stay in the spool');
    expect(error.cause).toMatchObject({ code: 'ENOSPC' });
    expect(noSpaceError(error, 'the workspace', 'other')).toBe(error);
    const fromWorker = Object.assign(new Error(error.message), { name: 'NoSpaceError' });
    expect(noSpaceError(fromWorker, 'the workspace', 'other').message).toBe(error.message);
  });
});
