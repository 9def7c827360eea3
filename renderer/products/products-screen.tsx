import { useEffect, useMemo, useState } from 'react';
import { invoke, on } from '../api-client';
import type { HandlerParams, HandlerResult } from '../../pipeline/app/contract';
import { EChart, type ChartOption } from '../charts/echart';
import { EmptyState, ErrorBanner, Panel, errorText, formatDateTime, money, numberFormat, useLoad } from '../components/ui';
import { currentRoute, navigate, routeHref } from '../navigation';
import { PredictionCard } from './prediction-card';

type Detail = HandlerResult<'products/detail'>;
type DrillParams = HandlerParams<'dashboard/products'>;

const DROP_COLOR = '#d9480f';
const PROMO_COLOR = 'rgba(250, 176, 5, 0.18)';

/** The drill-down selection carried in the hash (from a dashboard panel), if any. */
function drillFromRoute(params: URLSearchParams): (DrillParams & { describe: string }) | undefined {
  if (params.get('drill') !== '1') return undefined;
  const categories = params.get('categories')?.split('|').filter(Boolean) ?? [];
  const dropStatus = (params.get('dropStatus') ?? 'all') as 'all' | 'drop' | 'no drop';
  const grain = (params.get('grain') ?? 'day') as 'day' | 'week' | 'month';
  const drill: DrillParams & { describe: string } = { categories, dropStatus, grain, describe: '' };
  const parts: string[] = [];
  for (const key of ['from', 'to', 'period', 'category'] as const) {
    const value = params.get(key);
    if (value) {
      drill[key] = value;
      parts.push(`${key} ${value}`);
    }
  }
  if (categories.length) parts.push(`categories ${categories.join(', ')}`);
  if (dropStatus !== 'all') parts.push(dropStatus);
  drill.describe = parts.join(' · ') || 'all data';
  return drill;
}

/** Products: search or a dashboard drill-down on the left, one product's history, statistics and advice on the right. */
export function ProductsScreen() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const source = route.params.get('source') ?? '';
  const productId = route.params.get('id') ?? '';
  const drill = drillFromRoute(route.params);
  // The drill-down's own parameters: picking a product in its list must not reset or re-read the list.
  const drillParams = new URLSearchParams(route.params);
  drillParams.delete('source');
  drillParams.delete('id');
  const drillKey = drillParams.toString();

  return (
    <section className="screen products" aria-label="Products">
      <div className="two-columns">
        <div className="column-left">{drill ? <DrillList drill={drill} drillKey={drillKey} selected={productId} /> : <ProductSearch selected={productId} />}</div>
        <div className="column-right">
          {source && productId ? (
            <ProductDetailView source={source} productId={productId} />
          ) : (
            <EmptyState title="Pick a product" testId="product-empty">
              Search by product id or by words of its name, or drill into a dashboard panel to list the products behind it.
            </EmptyState>
          )}
        </div>
      </div>
    </section>
  );
}

function ProductSearch({ selected }: { selected: string }) {
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(query), 200);
    return () => clearTimeout(timer);
  }, [query]);
  const results = useLoad(() => invoke('products/search', { query: debounced, limit: 100 }), [debounced]);
  return (
    <Panel title="Find a product">
      <input
        type="search"
        className="search-input"
        placeholder="Product id or name…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-label="Search products"
        data-testid="product-search"
        autoFocus
      />
      <ErrorBanner error={results.error} onRetry={results.reload} />
      {results.value && results.value.length === 0 && (
        <EmptyState title={debounced ? `Nothing matches “${debounced}”` : 'No products in the cache yet'}>
          {debounced ? 'Try part of the id (e.g. the first letters) or one word of the name.' : 'Start the producer and run the ETL on the Pipeline screen.'}
        </EmptyState>
      )}
      <ul className="result-list" data-testid="product-results">
        {(results.value ?? []).map((p) => (
          <li key={`${p.source}/${p.product_id}`} className={p.product_id === selected ? 'selected' : undefined}>
            <a href={routeHref('products', { source: p.source, id: p.product_id })}>
              <span className="result-title">{p.title}</span>
              <span className="muted small">
                {p.product_id} · {p.category} · {money(p.last_price, p.currency)}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function DrillList({ drill, drillKey, selected }: { drill: DrillParams & { describe: string }; drillKey: string; selected: string }) {
  const [offset, setOffset] = useState(0);
  const limit = 50;
  useEffect(() => setOffset(0), [drillKey]);
  const { describe: _describe, ...params } = drill;
  const page = useLoad(() => invoke('dashboard/products', { ...params, offset, limit }), [drillKey, offset]);
  const total = page.value?.total ?? 0;
  return (
    <Panel
      title="Drill-down"
      testId="drill-list"
      actions={
        <a className="link" href={routeHref('products')}>
          Search instead
        </a>
      }
    >
      <div className="muted small" data-testid="drill-description">
        {drill.describe}
      </div>
      <div className="drill-total" data-testid="drill-total">
        {numberFormat.format(total)} products
      </div>
      <ErrorBanner error={page.error} onRetry={page.reload} />
      {page.value && total === 0 && <EmptyState title="No products in this selection">Widen the dashboard filters and drill again.</EmptyState>}
      <ul className="result-list">
        {(page.value?.products ?? []).map((p) => (
          <li key={`${p.source}/${p.product_id}`} className={p.product_id === selected ? 'selected' : undefined}>
            <a href={`${routeHref('products', { source: p.source, id: p.product_id })}&${drillKey}`}>
              <span className="result-title">{p.title}</span>
              <span className="muted small">
                {p.product_id} · {p.category} · {p.drops} drops · avg {p.avg_drop_pct === null ? '–' : `${p.avg_drop_pct.toFixed(1)} %`}
              </span>
            </a>
          </li>
        ))}
      </ul>
      {total > limit && (
        <div className="pager">
          <button type="button" className="button small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>
            Previous
          </button>
          <span className="muted small">
            {offset + 1}–{Math.min(total, offset + limit)} of {numberFormat.format(total)}
          </span>
          <button type="button" className="button small" disabled={offset + limit >= total} onClick={() => setOffset(offset + limit)}>
            Next
          </button>
        </div>
      )}
    </Panel>
  );
}

function ProductDetailView({ source, productId }: { source: string; productId: string }) {
  const [version, setVersion] = useState(0);
  useEffect(() => on('data/changed', () => setVersion((v) => v + 1)), []);
  const detail = useLoad(() => invoke('products/detail', { source, productId }), [source, productId, version]);
  // Once per detail: a new option object makes EChart redraw the whole history (also on the reload's loading renders).
  const historyChart = useMemo(() => detail.value && historyOption(detail.value), [detail.value]);
  if (detail.error && !detail.value) return <ErrorBanner error={detail.error} onRetry={detail.reload} prefix="Could not load the product" />;
  if (!detail.value) return <div className="muted">Loading…</div>;
  const { product, stats } = detail.value;
  return (
    <div className="product-detail" data-testid="product-detail">
      <div className="product-heading">
        <div>
          <h1 data-testid="product-title">{product.title}</h1>
          <div className="muted">
            {product.product_id} · {product.category} · {product.source} · last seen {formatDateTime(stats.last_observed_at)}
          </div>
        </div>
        <div className="product-price">
          <div className="price-now" data-testid="product-price">
            {money(stats.current_price, product.currency)}
          </div>
          {stats.good_deal ? (
            <span className="badge good-deal" data-testid="good-deal-badge" title="Within 5 % of the lowest price ever seen">
              Good deal
            </span>
          ) : (
            <span className="muted small">{stats.above_lowest_pct.toFixed(1)} % above its lowest</span>
          )}
        </div>
      </div>
      {stats.rise_warning && (
        <div className="banner warn" role="status" data-testid="rise-warning">
          ⚠ {stats.rise_warning}
        </div>
      )}
      <div className="product-grid">
        <Panel title="Price history" testId="price-history">
          <EChart option={historyChart!} height={300} ariaLabel={`Price history of ${product.title}`} />
          <div className="legend-note muted small">Red points: drops. Shaded: promotions (a “was” price shown by the shop).</div>
        </Panel>
        <PredictionCard source={source} productId={productId} currency={product.currency} />
      </div>
      <Panel title="Statistics" testId="product-stats">
        <dl className="stats-grid">
          <Stat label="Lowest ever" value={money(stats.lowest_price, product.currency)} note={new Date(stats.lowest_at).toLocaleDateString()} testId="stat-lowest" />
          <Stat label="30-day average" value={money(stats.avg_30d, product.currency)} testId="stat-avg-30" />
          <Stat label="90-day average" value={money(stats.avg_90d, product.currency)} testId="stat-avg-90" />
          <Stat label="180-day average" value={money(stats.avg_180d, product.currency)} testId="stat-avg-180" />
          <Stat label="Highest" value={money(stats.highest_price, product.currency)} />
          <Stat label="Observations" value={numberFormat.format(stats.observations)} />
        </dl>
      </Panel>
      <QuickAlert source={source} productId={productId} currency={product.currency} price={stats.current_price} />
    </div>
  );
}

function Stat({ label, value, note, testId }: { label: string; value: string; note?: string; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{value}</dd>
      {note && <dd className="muted small">{note}</dd>}
    </div>
  );
}

/** Alert me when this product's price is at or below a target. */
function QuickAlert({ source, productId, currency, price }: { source: string; productId: string; currency: string; price: number }) {
  const [target, setTarget] = useState(() => (Math.floor(price * 0.9 * 100) / 100).toFixed(2));
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <Panel title="Alert me" testId="quick-alert">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          invoke('alerts/create', { scope: 'product', source, target: productId, kind: 'price_below', threshold: Number(target) })
            .then((r) => {
              setError(null);
              setMessage(r.evaluation.fired.length ? 'Rule saved: it fired already (the price is at or below your target).' : 'Rule saved: you will be told when the price reaches your target.');
            })
            .catch((err: unknown) => setError(errorText(err)));
        }}
      >
        <label>
          when the price is at or below
          <input type="number" min="0.01" step="0.01" value={target} onChange={(e) => setTarget(e.target.value)} data-testid="quick-alert-target" />
          <span className="muted">{currency}</span>
        </label>
        <button type="submit" className="button">
          Create alert
        </button>
        <button type="button" className="link" onClick={() => navigate('alerts', { source, id: productId })}>
          More rules…
        </button>
      </form>
      {message && <div className="muted small">{message}</div>}
      <ErrorBanner error={error} />
    </Panel>
  );
}

function historyOption(detail: Detail): ChartOption {
  const points = detail.history;
  const times = points.map((p) => p.observed_at.slice(0, 10));
  // Promotions as shaded spans of consecutive promotion days.
  const spans: [{ xAxis: string }, { xAxis: string }][] = [];
  let start: string | undefined;
  points.forEach((p, i) => {
    if (p.promotion && start === undefined) start = times[i];
    const ends = p.promotion && (i === points.length - 1 || !points[i + 1]!.promotion);
    if (ends && start !== undefined) {
      spans.push([{ xAxis: start }, { xAxis: times[i]! }]);
      start = undefined;
    }
  });
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { data: ['Price', 'Was price', 'Drop', 'Promotion'], bottom: 0 },
    grid: { left: 56, right: 20, top: 16, bottom: 56 },
    xAxis: { type: 'category', data: times, boundaryGap: false },
    yAxis: { type: 'value', scale: true, name: detail.product.currency },
    dataZoom: points.length > 120 ? [{ type: 'inside' }] : [],
    series: [
      {
        name: 'Price',
        type: 'line',
        step: 'end',
        data: points.map((p) => p.price),
        symbol: 'none',
        color: '#1f2933',
        markArea: { silent: true, itemStyle: { color: PROMO_COLOR }, data: spans },
        markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dotted', color: '#2b8a3e' }, label: { formatter: 'lowest {c}', position: 'insideEndTop' }, data: [{ yAxis: detail.stats.lowest_price }] },
      },
      { name: 'Was price', type: 'line', step: 'end', data: points.map((p) => (p.promotion ? p.old_price : null)), symbol: 'none', lineStyle: { type: 'dashed', width: 1 }, color: '#fab005', connectNulls: false },
      { name: 'Drop', type: 'scatter', data: points.map((p) => (p.drop ? p.price : null)), symbolSize: 8, color: DROP_COLOR },
      // Legend entry for the shaded spans.
      { name: 'Promotion', type: 'line', data: [], color: '#fab005', areaStyle: { color: PROMO_COLOR } },
    ],
  };
}
