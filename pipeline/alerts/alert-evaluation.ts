import type { CacheDb } from '../cache/cache-db';
import { firedOnDay, listRules, recordFired, type AlertRule, type FiredAlert } from './alert-store';

/** A drop forecast for one product, as far as alerts care (the forecaster's Prediction fits). */
export interface AlertForecast {
  will_drop: boolean;
  confidence: number;
  expected_drop_pct: number;
}

export interface EvaluateAlertsOptions {
  /** At most this many alerts per UTC day, all rules together; the rest are counted as suppressed. */
  dailyCap: number;
  now?: Date;
  /** The forecaster, for `predicted_drop` rules; absent (no model yet): those rules wait. */
  forecast?: (source: string, productId: string) => AlertForecast | undefined;
}

export interface AlertEvaluation {
  fired: FiredAlert[];
  /** Alerts that matched but were held back by the daily cap. */
  suppressed: number;
}

/** The latest observation of each product in a rule's scope. */
interface Candidate {
  source: string;
  product_id: string;
  title: string;
  category: string;
  currency: string;
  price: number;
  drop_pct: number | null;
  is_drop: number;
  observed_at: string;
}

function candidates(db: CacheDb, rule: AlertRule): Candidate[] {
  const scope = rule.scope === 'product' ? 'o.source = ? AND o.product_id = ?' : 'o.category = ?';
  const params = rule.scope === 'product' ? [rule.source ?? '', rule.target] : [rule.target];
  return db
    .prepare(
      `SELECT o.source, o.product_id, o.title, o.category, o.currency, o.price, o.drop_pct, o.is_drop, o.observed_at
       FROM v_product_latest o
       WHERE ${scope}`,
    )
    .all(...params) as Candidate[];
}

function money(value: number, currency: string): string {
  return `${value.toFixed(2)} ${currency}`;
}

/** Whether the rule matches the product's latest observation; the alert's message when it does. */
function match(rule: AlertRule, c: Candidate, forecast: EvaluateAlertsOptions['forecast']): string | undefined {
  switch (rule.kind) {
    case 'price_below':
      return c.price <= rule.threshold ? `${c.title} is at ${money(c.price, c.currency)}, at or below your target of ${money(rule.threshold, c.currency)}.` : undefined;
    case 'drop_pct':
      return c.is_drop === 1 && c.drop_pct !== null && c.drop_pct >= rule.threshold
        ? `${c.title} dropped ${c.drop_pct.toFixed(1)} % to ${money(c.price, c.currency)} (your rule: at least ${rule.threshold} %).`
        : undefined;
    case 'predicted_drop': {
      const f = forecast?.(c.source, c.product_id);
      return f && f.will_drop && f.confidence >= rule.threshold
        ? `${c.title}: a drop of about ${f.expected_drop_pct.toFixed(1)} % is predicted with ${(f.confidence * 100).toFixed(0)} % confidence.`
        : undefined;
    }
  }
}

/**
 * Evaluates every enabled rule against the latest observation of each product in its scope.
 * A rule fires at most once per product per UTC day; at most `dailyCap` alerts fire per day in
 * total (the rest are counted in `suppressed`), so a market-wide sale does not flood anybody.
 */
export function evaluateAlerts(db: CacheDb, options: EvaluateAlertsOptions): AlertEvaluation {
  const now = options.now ?? new Date();
  const day = now.toISOString().slice(0, 10);
  let remaining = Math.max(0, options.dailyCap - firedOnDay(db, day));
  const fired: FiredAlert[] = [];
  let suppressed = 0;
  const alreadyFired = db.prepare('SELECT 1 FROM alert_events WHERE rule_id = ? AND source = ? AND product_id = ? AND day = ?');
  for (const rule of listRules(db)) {
    if (!rule.enabled) continue;
    if (rule.kind === 'predicted_drop' && !options.forecast) continue;
    for (const candidate of candidates(db, rule)) {
      const message = match(rule, candidate, options.forecast);
      if (!message) continue;
      if (alreadyFired.get(rule.id, candidate.source, candidate.product_id, day)) continue;
      if (remaining <= 0) {
        suppressed++;
        continue;
      }
      const alert = recordFired(db, {
        rule_id: rule.id,
        source: candidate.source,
        product_id: candidate.product_id,
        day,
        fired_at: now.toISOString(),
        title: candidate.title,
        message,
        price: candidate.price,
      });
      if (alert) {
        fired.push(alert);
        remaining--;
      }
    }
  }
  return { fired, suppressed };
}
