import { describe, expect, it } from 'vitest';
import { checkInvoke, MAX_PARAMS_BYTES } from './ipc-guard';

const names = new Set(['dashboard/panels', 'app/info']);

describe('checkInvoke', () => {
  it('lets a known request with plain params through', () => {
    expect(checkInvoke('app/info', undefined, names)).toEqual({ ok: true });
    expect(checkInvoke('dashboard/panels', { categories: ['Toys'], grain: 'week' }, names)).toEqual({ ok: true });
  });

  it('refuses unknown names, inherited names and non-strings', () => {
    expect(checkInvoke('toString', {}, names)).toMatchObject({ ok: false, code: 'not_found' });
    expect(checkInvoke('fs/read', {}, names)).toMatchObject({ ok: false, code: 'not_found' });
    expect(checkInvoke(42, {}, names)).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('refuses params that are not one plain object of bounded size and depth', () => {
    expect(checkInvoke('app/info', [1, 2], names)).toMatchObject({ ok: false, code: 'bad_request' });
    expect(checkInvoke('app/info', 'x', names)).toMatchObject({ ok: false, code: 'bad_request' });
    expect(checkInvoke('app/info', { when: new Date() }, names)).toMatchObject({ ok: false, code: 'bad_request' });
    expect(checkInvoke('app/info', { big: 'x'.repeat(MAX_PARAMS_BYTES) }, names)).toMatchObject({ ok: false, code: 'bad_request' });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) deep = { deep };
    expect(checkInvoke('app/info', deep, names)).toMatchObject({ ok: false, code: 'bad_request' });
  });

  it('refuses prototype keys at any depth, naming where', () => {
    expect(checkInvoke('app/info', JSON.parse('{"a":{"__proto__":{"polluted":1}}}'), names)).toEqual({ ok: false, code: 'bad_request', message: 'params.a.__proto__ is not accepted' });
    expect(checkInvoke('app/info', { constructor: { prototype: { x: 1 } } }, names)).toMatchObject({ ok: false, code: 'bad_request' });
    expect(checkInvoke('app/info', { limit: undefined, list: [1, 'a', null, { b: true }] }, names)).toEqual({ ok: true });
  });
});
