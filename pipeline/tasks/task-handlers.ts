import type { AppContext } from '../api/app-context';
import { optionalNumber, optionalStringArray, record, requiredString } from '../api/validate';
import { taskRunnerOf, type TaskRun } from './task-runner';

/** The tasks domain: the run history, one run, and cancelling a running one. */
export function taskHandlers(ctx: AppContext) {
  const runner = () => taskRunnerOf(ctx);
  return {
    /** Newest first; `kinds` narrows to some kinds (e.g. ['train']). */
    'tasks/list': async (params: { kinds?: string[]; limit?: number }): Promise<TaskRun[]> => {
      const input = record(params);
      const kinds = optionalStringArray(input, 'kinds', 20, 40);
      const limit = optionalNumber(input, 'limit', { min: 1, max: 500, integer: true });
      return runner().list({ ...(kinds ? { kinds } : {}), ...(limit ? { limit } : {}) });
    },
    'tasks/get': async (params: { id: string }): Promise<TaskRun> => runner().get(requiredString(record(params), 'id', 64)),
    /** Asks a running task to stop; it reports `cancelled` once its work has stopped. */
    'tasks/cancel': async (params: { id: string }): Promise<TaskRun> => runner().cancel(requiredString(record(params), 'id', 64)),
  };
}
