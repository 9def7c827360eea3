import { cachePath, getMeta, openCache } from '../../pipeline/cache/cache-db';
import { cacheStatus, WATERMARK_KEY } from '../../pipeline/athena/cloud-sync';
import { dashboardPanels } from '../../pipeline/dashboard/dashboard-queries';

/** Everything a user sees of a workspace's cache after a sync: rows, the sync watermark, the panels and "data as of". Equal snapshots: nothing changed. */
export function cacheSnapshot(workspace: string) {
  const cache = openCache(cachePath(workspace));
  try {
    return {
      rows: cache.prepare('SELECT COUNT(*) FROM observations').pluck().get() as number,
      athenaRows: cache.prepare("SELECT COUNT(*) FROM observations WHERE origin = 'athena'").pluck().get() as number,
      watermark: getMeta(cache, WATERMARK_KEY) ?? null,
      panels: dashboardPanels(cache, {}, 'day'),
      status: cacheStatus(cache),
    };
  } finally {
    cache.close();
  }
}
