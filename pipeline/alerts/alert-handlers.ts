import type { CoreEvents } from '../api/event-bus';
import type { HandlerContext } from '../api/handler-context';
import { NotFoundError, ValidationError } from '../base/errors';
import { optionalBoolean, optionalEnum, optionalNumber, optionalString, record, requiredString } from '../api/validate';
import { readSettings } from '../settings/settings-store';
import { evaluateAlerts, type AlertEvaluation, type EvaluateAlertsOptions } from './alert-evaluation';
import { addRule, deleteRule, firedOnDay, getRule, listFired, listRules, markSeen, setRuleEnabled, type AlertKind, type AlertRule, type AlertScope, type FiredAlert } from './alert-store';

/** The alerts domain's event: alerts that fired in one evaluation (after an ETL pass, a sync, or a new rule). */
export interface AlertEvents {
  'alerts/fired': { alerts: FiredAlert[]; suppressed: number };
}

/**
 * What the alerts domain needs: the base context, and the forecaster for `predicted_drop` rules
 * (the composition root passes the forecasting service's; absent, those rules wait).
 */
export interface AlertContext extends HandlerContext<CoreEvents & AlertEvents> {
  forecastForAlerts?: EvaluateAlertsOptions['forecast'];
}

/** Runs one evaluation and tells the UI (and the desktop notifier) about what fired. */
export function evaluateAndNotify(ctx: AlertContext): AlertEvaluation {
  const settings = readSettings(ctx.workspace);
  const forecast = ctx.forecastForAlerts;
  const result = evaluateAlerts(ctx.cache, { dailyCap: settings.alerts.dailyCap, ...(forecast ? { forecast } : {}) });
  if (result.fired.length > 0 || result.suppressed > 0) ctx.events.emit('alerts/fired', { alerts: result.fired, suppressed: result.suppressed });
  return result;
}

/**
 * Evaluates the rules after every cache change (ETL pass, sync), at most one evaluation at a time
 * and at most one every 2 s: a burst of ETL commits costs one evaluation. Started once by the
 * composition root; returns the function that stops watching.
 */
export function watchAlerts(ctx: AlertContext): () => void {
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe = ctx.events.on('data/changed', () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      try {
        evaluateAndNotify(ctx);
      } catch (error) {
        // The cache closed under us at shutdown, or a rule is broken: log, never crash the backend.
        ctx.events.emit('log/line', { level: 'error', source: 'alerts', message: `Alert evaluation failed: ${(error as Error).message}`, at: new Date().toISOString() });
      }
    }, 2000);
    timer.unref();
  });
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}

function parseRule(params: unknown): Omit<AlertRule, 'id' | 'created_at' | 'enabled'> {
  const input = record(params);
  const scope = optionalEnum<AlertScope>(input, 'scope', ['product', 'category']) ?? 'product';
  const kind = optionalEnum<AlertKind>(input, 'kind', ['price_below', 'drop_pct', 'predicted_drop']);
  if (!kind) throw new ValidationError('kind is required: price_below, drop_pct or predicted_drop');
  const target = requiredString(input, 'target', 200);
  const source = scope === 'product' ? requiredString(input, 'source', 200) : null;
  const threshold = optionalNumber(input, 'threshold', { min: 0 });
  if (threshold === undefined) throw new ValidationError('threshold is required');
  if (kind === 'drop_pct' && (threshold <= 0 || threshold > 100)) throw new ValidationError('a drop percentage must be between 0 and 100');
  if (kind === 'predicted_drop' && threshold > 1) throw new ValidationError('a confidence must be between 0 and 1');
  if (kind === 'price_below' && threshold <= 0) throw new ValidationError('a target price must be above 0');
  return { scope, source, target, kind, threshold };
}

function ruleId(params: unknown): number {
  const id = optionalNumber(record(params), 'id', { min: 1, integer: true });
  if (id === undefined) throw new ValidationError('id is required');
  return id;
}

/** The alerts domain: rules, what fired, and evaluation after each ETL or sync. */
export function alertHandlers(ctx: AlertContext) {
  return {
    'alerts/rules': async (): Promise<AlertRule[]> => listRules(ctx.cache),
    /** Adds a rule and evaluates it at once against the latest prices. */
    'alerts/create': async (params: { scope?: AlertScope; source?: string; target: string; kind: AlertKind; threshold: number }): Promise<{ rule: AlertRule; evaluation: AlertEvaluation }> => {
      const rule = addRule(ctx.cache, parseRule(params));
      return { rule, evaluation: evaluateAndNotify(ctx) };
    },
    'alerts/update': async (params: { id: number; enabled?: boolean }): Promise<AlertRule> => {
      const id = ruleId(params);
      const enabled = optionalBoolean(record(params), 'enabled');
      if (enabled !== undefined && !setRuleEnabled(ctx.cache, id, enabled)) throw new NotFoundError(`No alert rule ${id}`);
      const rule = getRule(ctx.cache, id);
      if (!rule) throw new NotFoundError(`No alert rule ${id}`);
      return rule;
    },
    'alerts/delete': async (params: { id: number }): Promise<{ deleted: boolean }> => {
      const id = ruleId(params);
      if (!deleteRule(ctx.cache, id)) throw new NotFoundError(`No alert rule ${id}`);
      return { deleted: true };
    },
    /** The latest fired alerts (newest first) and how many are unseen. */
    'alerts/history': async (params: { limit?: number; markSeen?: boolean }): Promise<{ alerts: FiredAlert[]; unseen: number; cap: number; today: number }> => {
      const input = record(params);
      const limit = optionalNumber(input, 'limit', { min: 1, max: 1000, integer: true }) ?? 100;
      const alerts = listFired(ctx.cache, limit);
      const unseen = alerts.filter((a) => !a.seen).length;
      if (optionalBoolean(input, 'markSeen')) markSeen(ctx.cache);
      const day = new Date().toISOString().slice(0, 10);
      return { alerts, unseen, cap: readSettings(ctx.workspace).alerts.dailyCap, today: firedOnDay(ctx.cache, day) };
    },
    /** Evaluates every rule now (normally automatic after each ETL pass or sync). */
    'alerts/evaluate': async (params?: { reason?: string }): Promise<AlertEvaluation> => {
      optionalString(record(params), 'reason', 100);
      return evaluateAndNotify(ctx);
    },
  };
}
