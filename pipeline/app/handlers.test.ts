import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../cache/cache-db';
import { createAppContext, type AppContext } from './app-context';
import { createHandlers, mergeHandlers } from './handlers';

/** A context whose services fail the test if a factory touches them while it builds its handlers. */
function guarded(ctx: AppContext, touched: string[]): AppContext {
  const watch = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(object, key, receiver) {
        touched.push(`${name}.${String(key)}`);
        return Reflect.get(object, key, receiver);
      },
    });
  return { ...ctx, events: watch('events', ctx.events), tasks: watch('tasks', ctx.tasks), producer: watch('producer', ctx.producer), forecaster: watch('forecaster', ctx.forecaster) };
}

describe('the composition root', () => {
  it('builds every handler without touching a service: factories only return functions', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-handlers-'));
    const services = createAppContext({ workspace, cache: openCache(cachePath(workspace)), version: 'test', shell: 'browser' });
    try {
      const touched: string[] = [];
      const ctx = guarded(services.ctx, touched);
      const first = Object.keys(createHandlers(ctx)).sort();
      const second = Object.keys(createHandlers(ctx)).sort();
      expect(touched).toEqual([]);
      expect(second).toEqual(first);
      expect(first).toContain('producer/start');
      expect(first).toContain('forecaster/status');
      expect(first).toContain('alerts/create');
    } finally {
      await services.dispose();
      services.ctx.cache.close();
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  it('refuses two domains declaring the same handler, so their order cannot matter', () => {
    const a = () => ({ 'x/get': async () => 1 });
    const b = () => ({ 'x/get': async () => 2 });
    expect(() => mergeHandlers({ a, b }, {})).toThrow(/x\/get is declared by both the a and the b domains/);
    expect(Object.keys(mergeHandlers({ b: a, a: () => ({ 'y/get': async () => 3 }) }, {}))).toEqual(['x/get', 'y/get']);
  });
});
