import { describe, expect, it } from 'vitest';
import { alertNotification } from './alert-notifications';

const alert = (id: number, title: string) => ({ id, rule_id: 1, source: 'sim', product_id: `P${id}`, day: '2026-11-25', fired_at: '2026-11-25T10:00:00Z', title, message: `${title} dropped`, price: 9, seen: false });

describe('alertNotification', () => {
  it('says nothing when nothing fired', () => {
    expect(alertNotification({ alerts: [], suppressed: 3 })).toBeUndefined();
  });

  it('summarises one evaluation in one notification that opens the first product', () => {
    expect(alertNotification({ alerts: [alert(1, 'Lamp')], suppressed: 0 })).toEqual({ title: 'PriceDrop: Lamp', body: 'Lamp dropped', open: { source: 'sim', productId: 'P1' } });
    const many = alertNotification({ alerts: [alert(1, 'Lamp'), alert(2, 'Mat'), alert(3, 'Pan')], suppressed: 4 })!;
    expect(many.title).toBe('PriceDrop: 3 price alerts');
    expect(many.body).toBe("Lamp dropped (+2 more) 4 more held back by today's cap.");
  });
});
