import type { AppContext } from '../api/app-context';
import { optionalDay, optionalEnum, optionalStringArray, record, ValidationError, type Input } from '../api/validate';
import { dashboardPanels, dataSpan, listCategories, type DashboardFilter, type TrendGrain } from './dashboard-queries';

/** Parses the filter part of a dashboard request. */
export function parseDashboardFilter(input: Input): DashboardFilter {
  const from = optionalDay(input, 'from');
  const to = optionalDay(input, 'to');
  if (from && to && from > to) throw new ValidationError('from must not be after to');
  const filter: DashboardFilter = {};
  if (from) filter.from = from;
  if (to) filter.to = to;
  const categories = optionalStringArray(input, 'categories');
  if (categories?.length) filter.categories = categories;
  const dropStatus = optionalEnum(input, 'dropStatus', ['all', 'drop', 'no drop'] as const);
  if (dropStatus) filter.dropStatus = dropStatus;
  return filter;
}

/** The dashboard domain: everything the six panels and their pickers ask. */
export function dashboardHandlers(ctx: AppContext) {
  return {
    /** The six panels for a filter and trend grain, plus when the data was last refreshed. */
    'dashboard/panels': async (params: DashboardFilter & { grain?: TrendGrain }) => {
      const input = record(params);
      const filter = parseDashboardFilter(input);
      const grain = optionalEnum(input, 'grain', ['day', 'week', 'month'] as const) ?? 'day';
      return { filter, grain, ...dashboardPanels(ctx.cache, filter, grain) };
    },
    /** Categories and the span of days in the cache, for the filter pickers. */
    'dashboard/facets': async () => ({ categories: listCategories(ctx.cache), ...dataSpan(ctx.cache) }),
  };
}
