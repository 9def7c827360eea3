import { useEffect, useMemo, useRef, useState } from 'react';
import type * as echarts from 'echarts';
import { invoke, on } from '../api-client';
import type { HandlerResult } from '../../pipeline/app/contract';
import { EChart, type ChartOption } from '../charts/echart';
import { downloadText, downloadUrl, fileStamp, toCsv } from '../components/download';
import { ErrorBanner, Panel, formatDateTime, numberFormat, useLoad } from '../components/ui';
import { navigate } from '../navigation';

type Panels = HandlerResult<'dashboard/panels'>;
type Facets = HandlerResult<'dashboard/facets'>;
type Grain = 'day' | 'week' | 'month';
type DropStatus = 'all' | 'drop' | 'no drop';

export interface DashboardFilters {
  from: string;
  to: string;
  categories: string[];
  dropStatus: DropStatus;
  grain: Grain;
}

export const EMPTY_FILTERS: DashboardFilters = { from: '', to: '', categories: [], dropStatus: 'all', grain: 'day' };

const DROP_COLOR = '#d9480f';
const NO_DROP_COLOR = '#868e96';

/** The six panels: three headline figures, the drop trend, top categories and the drop / no-drop split. */
export function DashboardScreen() {
  const [filters, setFilters] = useState<DashboardFilters>(EMPTY_FILTERS);
  // The last filters live in the backend settings (so the desktop app and a browser agree): restore them once.
  const [restored, setRestored] = useState(false);
  useEffect(() => {
    invoke('settings/get')
      .then((settings) => setFilters({ ...EMPTY_FILTERS, ...settings.dashboard }))
      .catch(() => {})
      .finally(() => setRestored(true));
  }, []);

  // Bumped when the cache changes: re-reads the panels without touching the filters (which are saved on change).
  const [dataVersion, setDataVersion] = useState(0);
  const data = useLoad(async () => {
    if (!restored) return undefined;
    const [panels, facets] = await Promise.all([
      invoke('dashboard/panels', {
        from: filters.from || undefined,
        to: filters.to || undefined,
        categories: filters.categories,
        dropStatus: filters.dropStatus,
        grain: filters.grain,
      }),
      invoke('dashboard/facets'),
    ]);
    return { panels, facets, refreshedAt: Date.now() };
  }, [filters, dataVersion, restored]);
  const panels = data.value?.panels ?? null;
  const facets = data.value?.facets ?? null;
  const refreshedAt = data.value?.refreshedAt ?? 0;
  // Built once per data: a new option object makes EChart redraw (setOption) on every render otherwise.
  const charts = useMemo(
    () => ({
      trend: trendOption(panels),
      categories: categoryOption(panels),
      split: splitOption(panels),
      avgDropTrend: panels?.trend.map((p) => p.avg_drop_pct ?? 0),
      observationsTrend: panels?.trend.map((p) => p.observations),
      dropsTrend: panels?.trend.map((p) => p.drops),
    }),
    [panels],
  );

  // Refresh when the backend says the cache changed (at most every 2 s).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = on('data/changed', () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        setDataVersion((v) => v + 1);
      }, 2000);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, []);

  const update = (patch: Partial<DashboardFilters>) => {
    const next = { ...filters, ...patch };
    setFilters(next);
    // Saved at once (a small file write), so a drill right after a click keeps the click; restoring them writes nothing.
    const { from, to, categories, dropStatus, grain } = next;
    invoke('settings/update', { dashboard: { from, to, categories, dropStatus, grain } }).catch(() => {});
  };
  /** Opens the Products screen on the products behind the current filter, narrowed by a panel selection. */
  const drill = (narrow: { category?: string; period?: string; dropStatus?: DropStatus } = {}) =>
    navigate('products', {
      drill: '1',
      from: filters.from || undefined,
      to: filters.to || undefined,
      categories: filters.categories.join('|') || undefined,
      dropStatus: narrow.dropStatus ?? filters.dropStatus,
      grain: filters.grain,
      category: narrow.category,
      period: narrow.period,
    });
  const stamp = fileStamp();
  const kpiRows = panels ? [{ ...panels.kpis, ...filterColumns(filters) }] : [];

  return (
    <section className="screen dashboard" aria-label="Dashboard">
      <FilterBar filters={filters} facets={facets} onChange={update} />
      <ErrorBanner error={data.error} prefix="Could not load the dashboard" />
      <div className="data-as-of" data-testid="data-as-of">
        {facets?.last_observed_at ? `Data as of ${formatDateTime(facets.last_observed_at)}` : 'No data yet: the producer and ETL are filling the cache…'}
        {refreshedAt > 0 && <span className="muted"> · refreshed {new Date(refreshedAt).toLocaleTimeString()}</span>}
        <OriginsNote refreshedAt={refreshedAt} />
      </div>
      <div className="kpi-row">
        <Kpi testId="kpi-avg-drop" label="Average price drop" value={panels?.kpis.avg_drop_pct == null ? '–' : `${panels.kpis.avg_drop_pct.toFixed(2)} %`} trend={charts.avgDropTrend} onDrill={() => drill({ dropStatus: 'drop' })} csv={() => toCsv(kpiRows, ['avg_drop_pct', 'observations', ...FILTER_COLUMNS])} fileBase={`avg-drop-${stamp}`} />
        <Kpi testId="kpi-products" label="Products analysed" value={panels ? numberFormat.format(panels.kpis.products_analysed) : '–'} trend={charts.observationsTrend} onDrill={() => drill()} csv={() => toCsv(kpiRows, ['products_analysed', 'observations', ...FILTER_COLUMNS])} fileBase={`products-analysed-${stamp}`} />
        <Kpi testId="kpi-products-drop" label="Products with a drop" value={panels ? numberFormat.format(panels.kpis.products_with_drop) : '–'} trend={charts.dropsTrend} onDrill={() => drill({ dropStatus: 'drop' })} csv={() => toCsv(kpiRows, ['products_with_drop', 'products_analysed', ...FILTER_COLUMNS])} fileBase={`products-with-drop-${stamp}`} />
      </div>
      <div className="chart-grid">
        <ChartPanel
          title={`Drop trend (${filters.grain})`}
          testId="panel-trend"
          option={charts.trend}
          ariaLabel="Drop trend over time"
          onClick={(p) => {
            const period = panels?.trend[p.dataIndex]?.period;
            if (period) drill({ period });
          }}
          hint="Click a period to list its products"
          onDrill={() => drill()}
          csv={() => toCsv(panels?.trend ?? [], ['period', 'avg_drop_pct', 'drops', 'observations'])}
          fileBase={`drop-trend-${filters.grain}-${stamp}`}
        />
        <ChartPanel
          title="Top categories by drop %"
          testId="panel-categories"
          option={charts.categories}
          ariaLabel="Top categories by drop percent"
          onClick={(p) => update({ categories: filters.categories.length === 1 && filters.categories[0] === p.name ? [] : [p.name] })}
          hint="Click a bar to filter by it"
          onDrill={() => drill()}
          csv={() => toCsv(panels?.top_categories ?? [], ['category', 'avg_drop_pct', 'drops', 'observations'])}
          fileBase={`top-categories-${stamp}`}
        />
        <ChartPanel
          title="Drop vs no drop"
          testId="panel-split"
          option={charts.split}
          ariaLabel="Drop versus no drop split"
          onClick={(p) => {
            const status: DropStatus = p.name === 'drop' ? 'drop' : 'no drop';
            update({ dropStatus: filters.dropStatus === status ? 'all' : status });
          }}
          hint="Click a slice to filter by it"
          onDrill={() => drill()}
          csv={() => toCsv(panels ? [{ status: 'drop', observations: panels.split.drop }, { status: 'no drop', observations: panels.split.no_drop }] : [], ['status', 'observations'])}
          fileBase={`drop-split-${stamp}`}
        />
      </div>
    </section>
  );
}

/** When each origin last wrote to the cache: the local ETL and the Athena sync. */
function OriginsNote({ refreshedAt }: { refreshedAt: number }) {
  const [status, setStatus] = useState<HandlerResult<'cache/status'> | null>(null);
  useEffect(() => {
    invoke('cache/status')
      .then(setStatus)
      .catch(() => setStatus(null));
  }, [refreshedAt]);
  if (!status) return null;
  const { local, athena } = status.origins;
  const parts = [local && `local ETL ${formatDateTime(local.updated_at)}`, athena && `Athena sync ${formatDateTime(athena.updated_at)}`].filter(Boolean);
  return parts.length ? <span className="muted"> · updated by {parts.join(', ')}</span> : null;
}

const FILTER_COLUMNS = ['filter_from', 'filter_to', 'filter_categories', 'filter_drop_status'] as const;

function filterColumns(filters: DashboardFilters) {
  return { filter_from: filters.from, filter_to: filters.to, filter_categories: filters.categories.join('|'), filter_drop_status: filters.dropStatus };
}

/** The buttons every panel carries: drill to its products, its data as CSV, its picture as PNG. */
function PanelActions({ onDrill, csv, fileBase, chart, testId }: { onDrill: () => void; csv: () => string; fileBase: string; chart: React.RefObject<echarts.ECharts | null>; testId: string }) {
  return (
    <>
      <button type="button" className="icon-button" onClick={onDrill} title="List the products behind this panel" data-testid={`${testId}-drill`}>
        Products →
      </button>
      <button type="button" className="icon-button" onClick={() => downloadText(`${fileBase}.csv`, csv(), 'text/csv;charset=utf-8')} title="Download this panel's data as CSV" data-testid={`${testId}-csv`}>
        CSV
      </button>
      <button
        type="button"
        className="icon-button"
        onClick={() => {
          const url = chart.current?.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#ffffff' });
          if (url) downloadUrl(`${fileBase}.png`, url);
        }}
        title="Download this panel's picture as PNG"
        data-testid={`${testId}-png`}
      >
        PNG
      </button>
    </>
  );
}

function ChartPanel(props: {
  title: string;
  testId: string;
  option: ChartOption;
  ariaLabel: string;
  onClick: (p: { name: string; dataIndex: number }) => void;
  hint: string;
  onDrill: () => void;
  csv: () => string;
  fileBase: string;
}) {
  const chart = useRef<echarts.ECharts | null>(null);
  return (
    <Panel title={props.title} testId={props.testId} actions={<PanelActions onDrill={props.onDrill} csv={props.csv} fileBase={props.fileBase} chart={chart} testId={props.testId} />}>
      <EChart option={props.option} ariaLabel={props.ariaLabel} onClick={props.onClick} onReady={(instance) => (chart.current = instance)} />
      <div className="muted small hint">{props.hint}</div>
    </Panel>
  );
}

function FilterBar({ filters, facets, onChange }: { filters: DashboardFilters; facets: Facets | null; onChange: (patch: Partial<DashboardFilters>) => void }) {
  return (
    <form className="filter-bar" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        From
        <input type="date" value={filters.from} min={facets?.first_day ?? undefined} max={facets?.last_day ?? undefined} onChange={(e) => onChange({ from: e.target.value })} data-testid="filter-from" />
      </label>
      <label>
        To
        <input type="date" value={filters.to} min={facets?.first_day ?? undefined} max={facets?.last_day ?? undefined} onChange={(e) => onChange({ to: e.target.value })} data-testid="filter-to" />
      </label>
      <label>
        Categories
        <select
          multiple
          size={1}
          className="category-select"
          value={filters.categories}
          onChange={(e) => onChange({ categories: Array.from(e.target.selectedOptions, (o) => o.value) })}
          data-testid="filter-categories"
        >
          {(facets?.categories ?? []).map((category) => (
            <option key={category} value={category}>
              {category}
            </option>
          ))}
        </select>
      </label>
      <label>
        Drop status
        <select value={filters.dropStatus} onChange={(e) => onChange({ dropStatus: e.target.value as DropStatus })} data-testid="filter-drop-status">
          <option value="all">All</option>
          <option value="drop">Drop</option>
          <option value="no drop">No drop</option>
        </select>
      </label>
      <label>
        Trend by
        <select value={filters.grain} onChange={(e) => onChange({ grain: e.target.value as Grain })} data-testid="filter-grain">
          <option value="day">Day</option>
          <option value="week">Week</option>
          <option value="month">Month</option>
        </select>
      </label>
      <div className="active-filters" aria-live="polite">
        {filters.categories.map((category) => (
          <button type="button" key={category} className="chip" onClick={() => onChange({ categories: filters.categories.filter((c) => c !== category) })}>
            {category} ✕
          </button>
        ))}
        {filters.dropStatus !== 'all' && (
          <button type="button" className="chip" onClick={() => onChange({ dropStatus: 'all' })}>
            {filters.dropStatus} ✕
          </button>
        )}
        <button type="button" className="link" onClick={() => onChange(EMPTY_FILTERS)} data-testid="filter-reset">
          Reset
        </button>
      </div>
    </form>
  );
}

function Kpi({ label, value, trend, testId, onDrill, csv, fileBase }: { label: string; value: string; trend?: number[]; testId: string; onDrill: () => void; csv: () => string; fileBase: string }) {
  const chart = useRef<echarts.ECharts | null>(null);
  const option = useMemo<ChartOption>(
    () => ({
      animation: false,
      grid: { left: 0, right: 0, top: 4, bottom: 0 },
      xAxis: { type: 'category', show: false, data: (trend ?? []).map((_, i) => i) },
      yAxis: { type: 'value', show: false, scale: true },
      series: [{ type: 'line', data: trend ?? [], smooth: true, symbol: 'none', lineStyle: { width: 2, color: DROP_COLOR }, areaStyle: { opacity: 0.12, color: DROP_COLOR } }],
    }),
    [trend],
  );
  return (
    <Panel title={label} testId={testId} actions={<PanelActions onDrill={onDrill} csv={csv} fileBase={fileBase} chart={chart} testId={testId} />}>
      <div className="kpi-value" data-testid={`${testId}-value`}>
        {value}
      </div>
      <EChart option={option} height={48} ariaLabel={`${label} trend`} onReady={(instance) => (chart.current = instance)} />
    </Panel>
  );
}

function trendOption(panels: Panels | null): ChartOption {
  const trend = panels?.trend ?? [];
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { data: ['Average drop %', 'Drops'], bottom: 0 },
    grid: { left: 48, right: 48, top: 16, bottom: 48 },
    xAxis: { type: 'category', data: trend.map((p) => p.period) },
    yAxis: [
      { type: 'value', name: '%', axisLabel: { formatter: '{value}' } },
      { type: 'value', name: 'drops', splitLine: { show: false } },
    ],
    dataZoom: trend.length > 60 ? [{ type: 'inside' }] : [],
    series: [
      { name: 'Average drop %', type: 'line', data: trend.map((p) => p.avg_drop_pct), symbol: 'none', color: DROP_COLOR },
      { name: 'Drops', type: 'bar', yAxisIndex: 1, data: trend.map((p) => p.drops), color: '#fab005', barMaxWidth: 12 },
    ],
  };
}

function categoryOption(panels: Panels | null): ChartOption {
  const rows = [...(panels?.top_categories ?? [])].reverse();
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 110, right: 56, top: 8, bottom: 24 },
    xAxis: { type: 'value', name: '%' },
    yAxis: { type: 'category', data: rows.map((r) => r.category) },
    series: [{ type: 'bar', data: rows.map((r) => r.avg_drop_pct), color: DROP_COLOR, cursor: 'pointer', label: { show: true, position: 'right', formatter: '{c} %' } }],
  };
}

function splitOption(panels: Panels | null): ChartOption {
  const split = panels?.split ?? { drop: 0, no_drop: 0 };
  return {
    animation: false,
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d} %)' },
    legend: { bottom: 0 },
    series: [
      {
        type: 'pie',
        radius: ['40%', '64%'],
        center: ['50%', '46%'],
        cursor: 'pointer',
        label: { formatter: '{d} %', fontSize: 12 },
        // A zero slice would still draw an overlapping label: leave it out.
        data: [
          { name: 'drop', value: split.drop, itemStyle: { color: DROP_COLOR } },
          { name: 'no drop', value: split.no_drop, itemStyle: { color: NO_DROP_COLOR } },
        ].filter((slice) => slice.value > 0),
      },
    ],
  };
}
