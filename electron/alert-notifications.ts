import type { EventMap } from '../pipeline/app/contract';

/**
 * What a desktop notification says for one `alerts/fired` event: one notification per
 * evaluation (never one per alert), so a market-wide sale is one line, not a flood. The daily cap
 * has already limited what fired; the suppressed ones are only counted.
 */
export interface NotificationText {
  title: string;
  body: string;
  /** The product to open when the notification is clicked (the first alert's). */
  open?: { source: string; productId: string };
}

export function alertNotification(fired: EventMap['alerts/fired']): NotificationText | undefined {
  const [first, ...rest] = fired.alerts;
  if (!first) return undefined;
  const more = rest.length > 0 ? ` (+${rest.length} more)` : '';
  const held = fired.suppressed > 0 ? ` ${fired.suppressed} more held back by today's cap.` : '';
  return {
    title: fired.alerts.length === 1 ? `PriceDrop: ${first.title}` : `PriceDrop: ${fired.alerts.length} price alerts`,
    body: `${first.message}${more}${held}`,
    open: { source: first.source, productId: first.product_id },
  };
}
