import type { HandlerContext } from '../api/handler-context';
import { optionalDay, optionalEnum, optionalNumber, optionalString, optionalStringArray, record, type Input } from '../api/validate';
import { ValidationError } from '../base/errors';
import { cacheStatus } from '../athena/cloud-sync';
import { dashboardPanels, dataSpan, listCategories, narrowToPeriod, productsForFilter, type DashboardFilter, type TrendGrain } from './dashboard-queries';

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
export function dashboardHandlers(ctx: HandlerContext) {
  return {
    /** The six panels for a filter and trend grain, plus when the data was last refreshed. */
    'dashboard/panels': async (params: DashboardFilter & { grain?: TrendGrain }) => {
      const input = record(params);
      const filter = parseDashboardFilter(input);
      const grain = optionalEnum(input, 'grain', ['day', 'week', 'month'] as const) ?? 'day';
      return { filter, grain, ...dashboardPanels(ctx.cache, filter, grain) };
    },
    /**
     * Drill-down: the products behind a panel selection, one page at a time. Same filter as
     * 'dashboard/panels'; `period` (a trend point's first day, with `grain`) narrows the dates to
     * that period, `category` (a bar of top categories) to one category, and `dropStatus` (a split
     * slice) to drops or no drops. `total` equals the selection's products_analysed.
     */
    'dashboard/products': async (
      params: DashboardFilter & { grain?: TrendGrain; period?: string; category?: string; offset?: number; limit?: number },
    ) => {
      const input = record(params);
      let filter = parseDashboardFilter(input);
      const grain = optionalEnum(input, 'grain', ['day', 'week', 'month'] as const) ?? 'day';
      const period = optionalDay(input, 'period');
      if (period) filter = narrowToPeriod(filter, period, grain);
      const category = optionalString(input, 'category', 200);
      const offset = optionalNumber(input, 'offset', { min: 0, integer: true }) ?? 0;
      const limit = optionalNumber(input, 'limit', { min: 1, max: 500, integer: true }) ?? 50;
      if (category !== undefined) {
        // A bar outside the filter's categories selects nothing.
        if (filter.categories?.length && !filter.categories.includes(category)) return { filter, grain, total: 0, offset, limit, products: [] };
        filter = { ...filter, categories: [category] };
      }
      return { filter, grain, ...productsForFilter(ctx.cache, filter, { offset, limit }) };
    },
    /**
     * "Data as of" per origin (local ETL, Athena sync: from the cache's meta table) and per data
     * source (latest observation of its products), the cache's observation count and the sync watermark.
     */
    'cache/status': async () => cacheStatus(ctx.cache),
    /** Categories and the span of days in the cache, for the filter pickers. */
    'dashboard/facets': async () => ({ categories: listCategories(ctx.cache), ...dataSpan(ctx.cache) }),
  };
}
