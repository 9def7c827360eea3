import type { CacheDb } from '../cache/cache-db';

/**
 * Alert rules and the alerts they fired, in the cache (`alert_rules`, `alert_events`).
 *
 * A rule watches one product or one category:
 * - `price_below`: the price is at or below `threshold` (in the product's currency);
 * - `drop_pct`: an observation labelled drop of at least `threshold` percent;
 * - `predicted_drop`: the forecaster predicts a drop with confidence at least `threshold` (0..1).
 * Each rule fires at most once per product and UTC day; the daily cap limits the total.
 */
export type AlertKind = 'price_below' | 'drop_pct' | 'predicted_drop';
export type AlertScope = 'product' | 'category';

export interface AlertRule {
  id: number;
  scope: AlertScope;
  /** The product's source (scope product); null for a category. */
  source: string | null;
  /** product_id or category. */
  target: string;
  kind: AlertKind;
  threshold: number;
  enabled: boolean;
  created_at: string;
}

export interface FiredAlert {
  id: number;
  rule_id: number;
  source: string;
  product_id: string;
  day: string;
  fired_at: string;
  title: string;
  message: string;
  price: number | null;
  seen: boolean;
}

export type NewAlertRule = Omit<AlertRule, 'id' | 'created_at' | 'enabled'> & { enabled?: boolean };

interface RuleRow extends Omit<AlertRule, 'enabled'> {
  enabled: number;
}

interface EventRow extends Omit<FiredAlert, 'seen'> {
  seen: number;
}

const toRule = (row: RuleRow): AlertRule => ({ ...row, enabled: row.enabled === 1 });
const toEvent = (row: EventRow): FiredAlert => ({ ...row, seen: row.seen === 1 });

export function listRules(db: CacheDb): AlertRule[] {
  return (db.prepare('SELECT * FROM alert_rules ORDER BY id').all() as RuleRow[]).map(toRule);
}

export function getRule(db: CacheDb, id: number): AlertRule | undefined {
  const row = db.prepare('SELECT * FROM alert_rules WHERE id = ?').get(id) as RuleRow | undefined;
  return row ? toRule(row) : undefined;
}

export function addRule(db: CacheDb, rule: NewAlertRule, now = new Date()): AlertRule {
  const info = db
    .prepare('INSERT INTO alert_rules (scope, source, target, kind, threshold, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(rule.scope, rule.source, rule.target, rule.kind, rule.threshold, rule.enabled === false ? 0 : 1, now.toISOString());
  return getRule(db, Number(info.lastInsertRowid))!;
}

export function setRuleEnabled(db: CacheDb, id: number, enabled: boolean): boolean {
  return db.prepare('UPDATE alert_rules SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id).changes === 1;
}

export function deleteRule(db: CacheDb, id: number): boolean {
  return db.prepare('DELETE FROM alert_rules WHERE id = ?').run(id).changes === 1;
}

export function listFired(db: CacheDb, limit = 100): FiredAlert[] {
  return (db.prepare('SELECT * FROM alert_events ORDER BY fired_at DESC, id DESC LIMIT ?').all(limit) as EventRow[]).map(toEvent);
}

export function markSeen(db: CacheDb): number {
  return db.prepare('UPDATE alert_events SET seen = 1 WHERE seen = 0').run().changes;
}

export function firedOnDay(db: CacheDb, day: string): number {
  return db.prepare('SELECT COUNT(*) FROM alert_events WHERE day = ?').pluck().get(day) as number;
}

/** Records a firing unless that rule already fired for that product that day; returns it when recorded. */
export function recordFired(db: CacheDb, alert: Omit<FiredAlert, 'id' | 'seen'>): FiredAlert | undefined {
  const info = db
    .prepare(
      `INSERT INTO alert_events (rule_id, source, product_id, day, fired_at, title, message, price)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule_id, source, product_id, day) DO NOTHING`,
    )
    .run(alert.rule_id, alert.source, alert.product_id, alert.day, alert.fired_at, alert.title, alert.message, alert.price);
  if (info.changes === 0) return undefined;
  return { ...alert, id: Number(info.lastInsertRowid), seen: false };
}
