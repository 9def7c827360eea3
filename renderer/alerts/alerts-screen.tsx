import { useEffect, useState } from 'react';
import { invoke, on, transport } from '../api-client';
import type { HandlerParams, HandlerResult } from '../../pipeline/app/contract';
import { EmptyState, ErrorBanner, Panel, errorText, formatDateTime, useLoad } from '../components/ui';
import { currentRoute, routeHref } from '../navigation';

type Rule = HandlerResult<'alerts/rules'>[number];
type NewRule = HandlerParams<'alerts/create'>;

const KIND_LABELS: Record<Rule['kind'], string> = {
  price_below: 'Price at or below',
  drop_pct: 'Drop of at least',
  predicted_drop: 'Predicted drop, confidence at least',
};

function describeThreshold(rule: Pick<Rule, 'kind' | 'threshold'>): string {
  if (rule.kind === 'price_below') return rule.threshold.toFixed(2);
  if (rule.kind === 'drop_pct') return `${rule.threshold} %`;
  return `${Math.round(rule.threshold * 100)} %`;
}

/** Alerts: the rules (per product or category), and what fired, with today's count against the cap. */
export function AlertsScreen() {
  const [version, setVersion] = useState(0);
  useEffect(() => on('alerts/fired', () => setVersion((v) => v + 1)), []);
  const rules = useLoad(() => invoke('alerts/rules'), [version]);
  const history = useLoad(() => invoke('alerts/history', { limit: 100, markSeen: true }), [version]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  /** Runs a change, then re-reads the rules and history; `done` says what happened (from the result). */
  const act = <T,>(promise: Promise<T>, done?: (result: T) => string) =>
    promise
      .then((result) => {
        setError(null);
        if (done) setNotice(done(result));
        setVersion((v) => v + 1);
      })
      .catch((e: unknown) => setError(errorText(e)));

  return (
    <section className="screen alerts" aria-label="Alerts">
      <div className="two-columns">
        <div className="column-left">
          <RuleForm
            onCreate={(rule) =>
              void act(invoke('alerts/create', rule), (r) =>
                r.evaluation.fired.length ? `Rule saved; it fired ${r.evaluation.fired.length} time(s) on the latest prices.` : 'Rule saved; it is checked after every ETL run or sync.',
              )
            }
          />
          <ErrorBanner error={error ?? rules.error} />
          {notice && (
            <div className="banner info" data-testid="alert-notice">
              {notice}
            </div>
          )}
          <Panel title="Rules" testId="alert-rules">
            {rules.value?.length === 0 && <EmptyState title="No rules yet">Add one above, or from a product’s page (“Alert me”).</EmptyState>}
            <ul className="rule-list">
              {(rules.value ?? []).map((rule) => (
                <li key={rule.id} className={rule.enabled ? undefined : 'disabled'} data-testid="alert-rule">
                  <div>
                    <strong>{rule.scope === 'product' ? <a href={routeHref('products', { source: rule.source ?? '', id: rule.target })}>{rule.target}</a> : `Category ${rule.target}`}</strong>
                    <div className="muted small">
                      {KIND_LABELS[rule.kind]} {describeThreshold(rule)}
                    </div>
                  </div>
                  <div className="rule-actions">
                    <label className="small">
                      <input type="checkbox" checked={rule.enabled} onChange={(e) => void act(invoke('alerts/update', { id: rule.id, enabled: e.target.checked }))} /> on
                    </label>
                    <button type="button" className="link" onClick={() => void act(invoke('alerts/delete', { id: rule.id }), () => 'Rule deleted.')}>
                      Delete
                    </button>
                  </div>
                </li>
              ))}
            </ul>
            <div className="actions">
              <button type="button" className="button small" onClick={() => void act(invoke('alerts/evaluate', {}), () => 'Rules checked against the latest prices.')} data-testid="alerts-evaluate">
                Check now
              </button>
              <BrowserNotificationsButton />
            </div>
          </Panel>
        </div>
        <div className="column-right">
          <Panel
            title="Fired alerts"
            testId="alert-history"
            actions={
              history.value && (
                <span className="muted small" data-testid="alert-cap">
                  today {history.value.today} of at most {history.value.cap} (<a href={routeHref('settings')}>cap</a>)
                </span>
              )
            }
          >
            <ErrorBanner error={history.error} onRetry={history.reload} />
            {history.value?.alerts.length === 0 && <EmptyState title="Nothing fired yet">Alerts appear here and as desktop notifications when a rule matches after an ETL run or sync.</EmptyState>}
            <ul className="fired-list">
              {(history.value?.alerts ?? []).map((alert) => (
                <li key={alert.id} className={alert.seen ? undefined : 'unseen'} data-testid="fired-alert">
                  <a href={routeHref('products', { source: alert.source, id: alert.product_id })}>{alert.message}</a>
                  <div className="muted small">{formatDateTime(alert.fired_at)}</div>
                </li>
              ))}
            </ul>
          </Panel>
        </div>
      </div>
    </section>
  );
}

/** In a browser, alerts reach the desktop only once the user allows notifications (the desktop app needs no permission). */
function BrowserNotificationsButton() {
  const [permission, setPermission] = useState(() => (transport === 'http' && typeof Notification !== 'undefined' ? Notification.permission : 'unsupported'));
  if (permission === 'unsupported' || permission === 'granted') return null;
  if (permission === 'denied') return <span className="muted small">Browser notifications are blocked for this page.</span>;
  return (
    <button type="button" className="button small" onClick={() => void Notification.requestPermission().then(setPermission)}>
      Also notify me on the desktop
    </button>
  );
}

function RuleForm({ onCreate }: { onCreate: (rule: NewRule) => void }) {
  const { params } = currentRoute();
  const categories = useLoad(() => invoke('dashboard/facets'), []);
  const [scope, setScope] = useState<'product' | 'category'>(params.get('id') ? 'product' : 'category');
  const [product, setProduct] = useState(params.get('id') ?? '');
  const [source, setSource] = useState(params.get('source') ?? '');
  const [category, setCategory] = useState('');
  const [kind, setKind] = useState<Rule['kind']>('drop_pct');
  const [threshold, setThreshold] = useState('10');
  const [matches, setMatches] = useState<HandlerResult<'products/search'>>([]);

  const [picked, setPicked] = useState(params.get('id') ? `${params.get('source')}/${params.get('id')}` : '');
  useEffect(() => {
    if (scope !== 'product' || product.length < 2) return setMatches([]);
    const timer = setTimeout(() => {
      invoke('products/search', { query: product, limit: 8 })
        .then((found) => {
          setMatches(found);
          // An exact id in one source needs no picking.
          const exact = found.filter((m) => m.product_id === product.trim());
          if (exact.length === 1) {
            setSource(exact[0]!.source);
            setPicked(`${exact[0]!.source}/${exact[0]!.product_id}`);
          }
        })
        .catch(() => setMatches([]));
    }, 200);
    return () => clearTimeout(timer);
  }, [product, scope]);

  const thresholdLabel = kind === 'price_below' ? 'Target price' : kind === 'drop_pct' ? 'Drop %' : 'Confidence %';
  return (
    <Panel title="New rule" testId="alert-form">
      <form
        className="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          const value = Number(threshold);
          onCreate({
            scope,
            target: scope === 'product' ? product.trim() : category,
            ...(scope === 'product' ? { source } : {}),
            kind,
            threshold: kind === 'predicted_drop' ? value / 100 : value,
          });
        }}
      >
        <div className="segmented" role="radiogroup" aria-label="Watch">
          <button type="button" className={scope === 'category' ? 'active' : undefined} onClick={() => setScope('category')} data-testid="rule-scope-category">
            A category
          </button>
          <button type="button" className={scope === 'product' ? 'active' : undefined} onClick={() => setScope('product')} data-testid="rule-scope-product">
            A product
          </button>
        </div>
        {scope === 'category' ? (
          <label>
            Category
            <select value={category} onChange={(e) => setCategory(e.target.value)} data-testid="rule-category" required>
              <option value="">Choose…</option>
              {(categories.value?.categories ?? []).map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label>
            Product id
            <input value={product} onChange={(e) => setProduct(e.target.value)} placeholder="id or name, then pick" data-testid="rule-product" required />
            {picked === `${source}/${product}` && <span className="muted small" data-testid="rule-product-picked">{source} · {product}</span>}
            {matches.length > 0 && picked !== `${source}/${product}` && (
              <ul className="suggestions">
                {matches.map((m) => (
                  <li key={`${m.source}/${m.product_id}`}>
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        setProduct(m.product_id);
                        setSource(m.source);
                        setPicked(`${m.source}/${m.product_id}`);
                      }}
                    >
                      {m.product_id} · {m.title}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </label>
        )}
        <label>
          When
          <select value={kind} onChange={(e) => setKind(e.target.value as Rule['kind'])} data-testid="rule-kind">
            <option value="drop_pct">it drops by at least X %</option>
            <option value="price_below">its price is at or below a target</option>
            <option value="predicted_drop">a drop is predicted with confidence ≥ Y %</option>
          </select>
        </label>
        <label>
          {thresholdLabel}
          <input type="number" min="0" step="any" value={threshold} onChange={(e) => setThreshold(e.target.value)} data-testid="rule-threshold" required />
        </label>
        <button type="submit" className="button primary" data-testid="rule-create">
          Add rule
        </button>
      </form>
    </Panel>
  );
}
