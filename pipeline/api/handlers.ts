import type { AppContext } from './app-context';
import { systemHandlers } from './system-handlers';
import { dashboardHandlers } from '../dashboard/dashboard-handlers';
import { taskHandlers } from '../tasks/task-handlers';
import { pipelineActionHandlers } from '../tasks/pipeline-actions';
import { cloudActionHandlers } from '../tasks/cloud-actions';
import { settingsHandlers } from '../settings/settings-handlers';
import { productHandlers } from '../products/product-handlers';
import { alertHandlers } from '../alerts/alert-handlers';
import { forecastHandlers } from '../forecasting/forecast-handlers';
import { producerHandlers } from '../docker/producer-handlers';

/**
 * Every request the UI can make, by name. Each domain declares its handlers in its own module;
 * the `Handlers` type below is derived from them, so the preload bridge, the HTTP transport and
 * the renderer's `invoke()` are all typed from the implementations (no second copy to drift).
 * Handlers validate their input themselves (pipeline/api/validate.ts): transports pass `unknown`.
 */
export function createHandlers(ctx: AppContext) {
  return {
    ...systemHandlers(ctx),
    ...dashboardHandlers(ctx),
    ...taskHandlers(ctx),
    ...pipelineActionHandlers(ctx),
    ...cloudActionHandlers(ctx),
    ...settingsHandlers(ctx),
    ...productHandlers(ctx),
    ...alertHandlers(ctx),
    ...forecastHandlers(ctx),
    ...producerHandlers(ctx),
  };
}

export type Handlers = ReturnType<typeof createHandlers>;
