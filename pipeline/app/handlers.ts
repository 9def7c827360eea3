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

/** Each domain's handler factory: it reads the context and returns its handlers, nothing else. */
const DOMAINS = {
  system: systemHandlers,
  dashboard: dashboardHandlers,
  tasks: taskHandlers,
  pipeline: pipelineActionHandlers,
  cloud: cloudActionHandlers,
  settings: settingsHandlers,
  products: productHandlers,
  alerts: alertHandlers,
  forecasting: forecastHandlers,
  producer: producerHandlers,
};

type DomainHandlers = { [D in keyof typeof DOMAINS]: ReturnType<(typeof DOMAINS)[D]> };
type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

/**
 * Every request the UI can make, by name. Each domain declares its handlers in its own module;
 * the `Handlers` type below is derived from them, so the preload bridge, the HTTP transport and
 * the renderer's `invoke()` are all typed from the implementations (no second copy to drift).
 * Handlers validate their input themselves (pipeline/api/validate.ts): transports pass `unknown`.
 */
export function createHandlers(ctx: AppContext): Handlers {
  return mergeHandlers(DOMAINS, ctx) as Handlers;
}

/**
 * Calls each domain's factory and joins their handlers. Two domains naming the same handler is an
 * error, so the order of the domains does not matter.
 */
export function mergeHandlers<C>(domains: Record<string, (ctx: C) => object>, ctx: C): Record<string, unknown> {
  const handlers: Record<string, unknown> = {};
  const owner = new Map<string, string>();
  for (const [domain, factory] of Object.entries(domains)) {
    for (const [name, handler] of Object.entries(factory(ctx))) {
      const taken = owner.get(name);
      if (taken) throw new Error(`Handler ${name} is declared by both the ${taken} and the ${domain} domains`);
      owner.set(name, domain);
      handlers[name] = handler;
    }
  }
  return handlers;
}

export type Handlers = UnionToIntersection<DomainHandlers[keyof DomainHandlers]>;
