import { optionalNumber, optionalStringArray, record, requiredString } from '../api/validate';
import type { TaskContext, TaskRun } from './task-runner';

/** The tasks domain: the run history, one run, and cancelling a running one. */
export function taskHandlers(ctx: TaskContext) {
  return {
    /** Newest first; `kinds` narrows to some kinds (e.g. ['train']). */
    'tasks/list': async (params: { kinds?: string[]; limit?: number }): Promise<TaskRun[]> => {
      const input = record(params);
      const kinds = optionalStringArray(input, 'kinds', 20, 40);
      const limit = optionalNumber(input, 'limit', { min: 1, max: 500, integer: true });
      return ctx.tasks.list({ ...(kinds ? { kinds } : {}), ...(limit ? { limit } : {}) });
    },
    'tasks/get': async (params: { id: string }): Promise<TaskRun> => ctx.tasks.get(requiredString(record(params), 'id', 64)),
    /** Asks a running task to stop; it reports `cancelled` once its work has stopped. */
    'tasks/cancel': async (params: { id: string }): Promise<TaskRun> => ctx.tasks.cancel(requiredString(record(params), 'id', 64)),
  };
}
