import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, openCache } from '../cache/cache-db';
import type { EventMap } from '../app/events';
import { createAppContext, type AppContext } from '../app/app-context';
import { updateSettings } from '../settings/settings-store';
import { alertHandlers } from './alert-handlers';
import { cleanRow, storeRows } from '../../test/support/clean-rows';

function context(): AppContext {
  const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-alert-handlers-'));
  return createAppContext({ workspace, cache: openCache(cachePath(workspace)), version: 'test', shell: 'browser' }).ctx;
}

/** A later observation of a product becomes its latest (the products view). */
function observe(ctx: AppContext, id: string, price: number, at: string) {
  storeRows(ctx.cache, [cleanRow({ source: 'sim', product_id: id, observed_at: at, title: `Item ${id}`, category: 'Toys', price })]);
}

afterEach(() => vi.useRealTimers());

describe('alert handlers', () => {
  it('evaluates the rules after the cache changes and announces what fired', async () => {
    vi.useFakeTimers();
    const ctx = context();
    const fired: EventMap['alerts/fired'][] = [];
    ctx.events.on('alerts/fired', (event) => fired.push(event));
    const handlers = alertHandlers(ctx);
    observe(ctx, 'A', 20, '2026-11-20T12:00:00.000Z');
    const created = await handlers['alerts/create']({ scope: 'product', source: 'sim', target: 'A', kind: 'price_below', threshold: 15 });
    expect(created.evaluation.fired).toEqual([]);

    observe(ctx, 'A', 14, '2026-11-21T12:00:00.000Z');
    ctx.events.emit('data/changed', { origin: 'local', rows: 1, at: new Date().toISOString() });
    ctx.events.emit('data/changed', { origin: 'local', rows: 1, at: new Date().toISOString() });
    expect(fired).toEqual([]); // debounced: one evaluation for a burst, 2 s later
    vi.advanceTimersByTime(2000);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.alerts[0]).toMatchObject({ product_id: 'A', price: 14 });
    const history = await handlers['alerts/history']({ markSeen: true });
    expect(history).toMatchObject({ unseen: 1, today: 1, cap: 20 });
    expect((await handlers['alerts/history']({})).unseen).toBe(0);
  });

  it('validates rules and honours the daily cap from the settings', async () => {
    const ctx = context();
    updateSettings(ctx.workspace, { alerts: { dailyCap: 1 } });
    const handlers = alertHandlers(ctx);
    await expect(handlers['alerts/create']({ scope: 'product', target: 'A', kind: 'price_below', threshold: 5 })).rejects.toThrow(/source is required/);
    await expect(handlers['alerts/create']({ scope: 'category', target: 'Toys', kind: 'drop_pct', threshold: 150 })).rejects.toThrow(/between 0 and 100/);
    await expect(handlers['alerts/create']({ scope: 'category', target: 'Toys', kind: 'nope' as never, threshold: 1 })).rejects.toThrow(/kind/);
    observe(ctx, 'A', 1, new Date().toISOString());
    observe(ctx, 'B', 1, new Date().toISOString());
    const { evaluation } = await handlers['alerts/create']({ scope: 'category', target: 'Toys', kind: 'price_below', threshold: 2 });
    expect(evaluation).toMatchObject({ suppressed: 1 });
    expect(evaluation.fired).toHaveLength(1);
  });
});
