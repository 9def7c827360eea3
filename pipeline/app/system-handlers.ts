import type { HandlerContext } from '../api/handler-context';
import { dataSpan } from '../dashboard/dashboard-queries';

/** Facts about the running backend. */
export function systemHandlers(ctx: HandlerContext) {
  return {
    'app/info': async () => ({
      version: ctx.version,
      shell: ctx.shell,
      workspace: ctx.workspace,
      data_as_of: dataSpan(ctx.cache).last_observed_at,
    }),
  };
}
